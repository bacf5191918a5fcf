/* result.c - POST /v1/sessions/{id}/result, in stages, each a function with one job:
 *   parse (package.c) -> session -> verify -> frames -> fresh (freshness.c) -> measure (the
 *   re-run, the tamper comparison, the challenge) -> decide (the policy) -> record (one
 *   transaction: nonce spent, outcome, frame index, audit) -> answer.
 * The first check that fails answers, audited, and changes nothing else. The page's answer says
 * only what the page needs (web/PACKAGE.md section 4): the exact reasons go to the integrator. */
#include "freshness.h"
#include "package.h"
#include "rerun.h"
#include "active.h"
#include "outbox.h"
#include "photo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    vf_srv *s;
    const vf_srv_request *q;
    vf_srv_reply *r;
    char id[33];
    int attempt;                       /* the session's current attempt, once known */
    char req_hash[65];
    vf_srv_package pkg;
    vf_srv_session *ss;
    struct { uint8_t *bytes; size_t n; vf_image_buffer img; } f[VF_SRV_MAX_FRAMES];
    int nf;
    vf_srv_worker *w;
    int64_t now;                       /* server time the package arrived */
    vf_srv_freshness *fresh;           /* findings of freshness.c, tamper reasons for the policy */
} job;

/* What the server measured on the package: its own numbers only. */
typedef struct facts {
    vf_srv_rerun rr;
    vf_srv_tamper_result tr;
    vf_srv_challenge_out cho;
    cJSON *challenge_detail;
    float similarity;                  /* NAN without a reference */
    int n_sig;
    const char *sig[8];
    cJSON *signals_detail;
    vf_srv_photo photo;                /* the portrait of the server's best frame (jpeg NULL: none) */
} facts;

/* A rejection: the error reply and its audit record. Returns 0 for `return reject(...)`. */
static int reject(job *j, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int reject(job *j, int status, const char *code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vf_srv_reply_error(j->r, status, code, "%s", msg);
    vf_srv_audit_reject(j->s, j->q, "result", j->id[0] ? j->id : NULL, j->attempt, j->r, code);
    return 0;
}

/* ---- 1. parse -------------------------------------------------------------------------------- */

static int parse(job *j, const char *url_id) {
    const char *names[VF_ROLE_COUNT];
    for (int i = 0; i < VF_ROLE_COUNT; i++) names[i] = vf_model_roles(NULL)[i].name;
    vf_srv_error e;
    if (vf_srv_package_parse(j->q->body, j->q->len, url_id, names, VF_ROLE_COUNT, &j->pkg, &e)) return reject(j, e.status, e.code, "%s", e.message);
    return 1;
}

/* ---- 2. the session: exists, within its rate, not decided, not expired ------------------------ */

static int session(job *j) {
    vf_srv *s = j->s;
    if (!(j->ss = malloc(sizeof *j->ss))) return reject(j, 500, "internal", "out of memory");
    int found = j->id[0] ? vf_srv_store_get_session(s->store, j->id, j->ss) : 0;
    if (found < 0) return reject(j, 500, "storage", "session lookup failed");
    if (!found) return reject(j, 404, "unknown_session", "no such session");
    j->attempt = j->ss->attempt;
    if (s->cfg.limits.per_session_per_min > 0 && !vf_srv_ratelimit_take(s->session_limit, j->id, vf_srv_mono_s()))
        return reject(j, 429, "rate_limited", "too many packages for this session");
    j->now = vf_srv_now_ms();
    return 1;
}

/* ---- 3. verify: signature over the exact bytes; then (answered_before) or the attempt's state,
 *         the nonce, freshness of created_at, the models -------------------------------------- */

static int verify_signature(job *j) {
    size_t sl = 0;
    const char *sh = j->q->signature;
    uint8_t *sig = sh && strlen(sh) <= 200 ? vf_srv_b64_decode(sh, strlen(sh), 1, &sl) : NULL;
    int good = sig && vf_srv_verify_p1363(j->ss->pubkey, j->ss->pubkey_len, j->q->body, j->q->len, sig, sl);
    free(sig);
    if (!good) return reject(j, 401, "bad_signature", "X-Veriface-Signature does not verify with the session's key");
    return 1;
}

/* The same signed body again, already decided: its recorded answer, audited as `answer_resent`
 * (web/PACKAGE.md: a page whose answer was lost to a crash or a dropped connection posts the same
 * bytes again). Only after the signature: only the key's holder may ask. 1 when answered so. */
static int answered_before(job *j) {
    char *a = vf_srv_store_recorded_answer(j->s->store, j->id, j->pkg.nonce, j->req_hash);
    cJSON *o = a ? cJSON_Parse(a) : NULL;
    free(a);
    if (!o) return 0;
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "attempt");
    int attempt = cJSON_IsNumber(at) && at->valuedouble >= 1 && at->valuedouble <= 1000 ? (int)at->valuedouble : 0;
    vf_srv_reply_json(j->r, 200, o);
    vf_srv_audit_reject(j->s, j->q, "result", j->id, attempt, j->r, "answer_resent");
    return 1;
}

static int verify(job *j) {
    vf_srv *s = j->s;
    vf_srv_session *ss = j->ss;
    if (ss->final) return reject(j, 409, "session_closed", "the session is already decided");
    if (j->now >= ss->expires_at) return reject(j, 410, "session_expired", "the session has expired");
    /* the nonce is read here and spent in the transaction that records the decision */
    if (strcmp(j->pkg.nonce, ss->nonce) || ss->nonce_used) {
        if (vf_srv_store_nonce_used(s->store, j->id, j->pkg.nonce)) return reject(j, 409, "nonce_replayed", "this nonce was already used");
        return reject(j, 400, "nonce_mismatch", "nonce is not the current attempt's");
    }
    if (j->pkg.attempt != ss->attempt) return reject(j, 400, "nonce_mismatch", "attempt is not the current attempt");
    if (fabs(j->pkg.created_at - (double)j->now) > s->cfg.limits.max_clock_skew_s * 1000.0 ||
        j->now - ss->nonce_issued_at > (int64_t)s->cfg.limits.nonce_ttl_s * 1000)
        return reject(j, 400, "stale_package", "created_at is off the server clock or the nonce is too old");
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        const char *name = vf_model_roles(NULL)[i].name;
        if (strcmp(cJSON_GetObjectItemCaseSensitive(j->pkg.models, name)->valuestring, vf_srv_engines_hash(s->engines, i)))
            return reject(j, 422, "model_mismatch", "models.%s is not the server's model", name);
    }
    return 1;
}

/* ---- 4. frames: count, base64, hash, header limits, decode ------------------------------------ */

static int frames(job *j) {
    vf_srv *s = j->s;
    const vf_session_config *sc = &j->ss->cfg.session;
    if (j->pkg.n_frames != sc->good_frames)
        return reject(j, 400, "bad_frames", "frames must hold exactly good_frames = %d entries", sc->good_frames);
    for (int i = 0; i < j->pkg.n_frames; i++) {
        const vf_srv_pkg_frame *pf = &j->pkg.frames[i];
        j->nf = i + 1;
        j->f[i].bytes = vf_srv_b64_decode(pf->data, strlen(pf->data), 0, &j->f[i].n);
        if (!j->f[i].bytes || j->f[i].n == 0) return reject(j, 400, "bad_frames", "frame data is not valid base64");
        char h[65];
        vf_srv_sha256_hex(j->f[i].bytes, j->f[i].n, h);
        if (strcmp(h, pf->sha256)) return reject(j, 400, "frame_hash_mismatch", "frame sha256 does not match its bytes");
    }
    const vf_srv_limits *l = &s->cfg.limits;
    vf_image_limits lim = vf_image_default_limits();
    lim.max_input_bytes = l->max_body;
    lim.max_decoder_bytes = 256u << 20;
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = VF_PIXEL_RGBA8;    /* the client pushes RGBA ImageData */
    o.apply_orientation = 0;      /* canvas-encoded frames carry no EXIF; never rotate a claimed frame */
    o.limits = lim;
    int mw = sc->max_width < l->max_frame_width ? sc->max_width : l->max_frame_width;
    int mh = sc->max_height < l->max_frame_height ? sc->max_height : l->max_frame_height;
    for (int i = 0; i < j->nf; i++) {
        /* the size first, from the header alone: a frame over the limits is frame_too_large,
         * whatever the decoder's own limits would have said */
        vf_image_info info;
        vf_image_limits roomy = lim;
        roomy.max_width = roomy.max_height = VF_IMAGE_MAX_SIDE - 1;
        roomy.max_pixels = INT64_MAX;
        if (vf_image_probe(j->w->ctx, j->f[i].bytes, j->f[i].n, &roomy, &info))
            return reject(j, 422, "corrupt_image", "frame: %s", vf_context_last_error(j->w->ctx));
        if (info.stored_width > mw || info.stored_height > mh || (int64_t)info.stored_width * info.stored_height > l->max_frame_pixels)
            return reject(j, 422, "frame_too_large", "frame %dx%d over the session's maximum %dx%d", info.stored_width, info.stored_height, mw, mh);
        if (info.stored_width != j->pkg.frames[i].width || info.stored_height != j->pkg.frames[i].height)
            return reject(j, 400, "bad_frames", "frame width/height differ from the image's");
        if (vf_image_decode(j->w->ctx, j->f[i].bytes, j->f[i].n, &o, &j->f[i].img, NULL))
            return reject(j, 422, "corrupt_image", "frame: %s", vf_context_last_error(j->w->ctx));
    }
    return 1;
}

/* ---- 5. fresh frames (freshness.c): no duplicates, none of an earlier package, timestamps ----- */

static int fresh(job *j) {
    vf_image_buffer imgs[VF_SRV_MAX_FRAMES];
    const uint8_t *bytes[VF_SRV_MAX_FRAMES];
    size_t sizes[VF_SRV_MAX_FRAMES];
    double ts[VF_SRV_MAX_FRAMES];
    for (int i = 0; i < j->nf; i++) { imgs[i] = j->f[i].img; bytes[i] = j->f[i].bytes; sizes[i] = j->f[i].n; ts[i] = j->pkg.frames[i].timestamp; }
    vf_srv_fresh_input in = {imgs, bytes, sizes, ts, j->nf, j->pkg.created_at, j->now, j->ss->nonce_issued_at, j->pkg.signals};
    if (j->fresh) vf_srv_freshness_clear(j->fresh);
    else if (!(j->fresh = malloc(sizeof *j->fresh))) return reject(j, 500, "internal", "out of memory");
    if (vf_srv_freshness_check(j->s, &in, j->fresh)) {
        free(j->fresh);
        j->fresh = NULL;
        return reject(j, 500, "internal", "the freshness check failed");
    }
    return 1;
}

/* ---- 6. measure: the re-run, the tamper comparison, the challenge, the match, the signals ----- */

static int measure(job *j, facts *F) {
    vf_srv *s = j->s;
    vf_srv_session *ss = j->ss;
    if (!j->w) j->w = vf_srv_engines_acquire(s->engines);   /* a second pass */
    vf_image_buffer imgs[VF_SRV_MAX_FRAMES];
    double ts[VF_SRV_MAX_FRAMES];
    int cidx[VF_SRV_MAX_FRAMES];
    const cJSON *status[VF_SRV_MAX_FRAMES];
    /* the session plans frame memory for its maximum size: plan for these frames only */
    vf_session_config plan = ss->cfg.session;
    plan.max_width = plan.max_height = 16;
    for (int i = 0; i < j->nf; i++) {
        imgs[i] = j->f[i].img;
        ts[i] = j->pkg.frames[i].timestamp;
        cidx[i] = j->pkg.frames[i].index;
        status[i] = j->pkg.frames[i].status;
        if (imgs[i].width > plan.max_width) plan.max_width = imgs[i].width;
        if (imgs[i].height > plan.max_height) plan.max_height = imgs[i].height;
    }
    if (vf_srv_rerun_run(j->w, &plan, imgs, ts, j->nf, &F->rr)) {
        fprintf(stderr, "veriface-server: re-run failed: %s\n", vf_context_last_error(j->w->ctx));
        return reject(j, 500, "internal", "the re-run failed");
    }
    vf_srv_tamper_compare(j->w, &s->cfg, &ss->cfg.session, imgs, cidx, ts, status, j->nf, j->pkg.result, &F->rr, &F->tr);
    if (ss->challenge[0]) {
        int st = 0;
        const char *code = "internal";
        char msg[300];
        F->challenge_detail = cJSON_CreateObject();
        if (vf_srv_challenge_check(j->w, &ss->cfg.challenge, ss->nonce, j->pkg.challenge, cJSON_GetObjectItemCaseSensitive(j->pkg.root, "frames"),
                                   &F->cho, F->challenge_detail, &st, &code, msg, sizeof msg)) {
            vf_srv_rerun_release(&F->rr);
            return reject(j, st, code, "%s", msg);
        }
    }
    /* the session photo: the server's best frame, while a retention allows keeping one */
    if (s->cfg.photo_retention_s > 0 && F->rr.n_chosen > 0 && F->rr.chosen[0] >= 0 && F->rr.chosen[0] < j->nf)
        vf_srv_photo_make(j->w->ctx, &imgs[F->rr.chosen[0]], &F->rr.st[F->rr.chosen[0]], &ss->cfg.session.quality, &F->photo);
    vf_srv_rerun_release(&F->rr);
    vf_srv_engines_release(s->engines, j->w);
    j->w = NULL;
    F->similarity = ss->ref_dim > 0 && F->rr.emb_dim == ss->ref_dim ? vf_match_similarity(F->rr.emb, ss->ref, ss->ref_dim) : NAN;
    F->signals_detail = cJSON_CreateObject();
    F->n_sig = vf_srv_signals_score(j->pkg.signals, F->sig, 8, F->signals_detail);
    return 1;
}

static void facts_clear(facts *F) {
    free(F->photo.jpeg);
    F->photo.jpeg = NULL;
    cJSON_Delete(F->challenge_detail);
    cJSON_Delete(F->tr.detail);
    cJSON_Delete(F->signals_detail);
    F->challenge_detail = F->tr.detail = F->signals_detail = NULL;
}

/* ---- 7. decide: the policy on the server's facts and the session's history -------------------- */

static void decide(const job *j, const facts *F, vf_policy_config *pc, vf_policy_result *pr) {
    const vf_srv_session *ss = j->ss;
    *pc = j->s->cfg.policy;
    pc->mode = ss->cfg.liveness_type;
    pc->max_retries = ss->cfg.max_retries;
    pc->live_pass = ss->cfg.session.live_pass;
    pc->live_fail = ss->cfg.session.live_fail;
    pc->match_threshold = ss->cfg.face_match_threshold;
    vf_policy_input in;
    memset(&in, 0, sizeof in);
    in.attempt = ss->attempt;
    in.uncertain_before = ss->uncertain_count;
    in.fail_before = ss->fail_count;
    in.challenge_pending = ss->challenge[0] != 0;
    in.challenge_met = in.challenge_pending && F->cho.r.met;
    for (int i = 0; i < F->cho.r.n_reasons && in.n_challenge < 8; i++) in.challenge[in.n_challenge++] = F->cho.r.reasons[i];
    for (int i = 0; i < F->tr.n && in.n_tamper < 8; i++) in.tamper[in.n_tamper++] = F->tr.reasons[i];
    for (int i = 0; i < j->fresh->n_reasons && in.n_tamper < 8; i++) in.tamper[in.n_tamper++] = j->fresh->reasons[i];
    int dup_listed = 0;
    for (int i = 0; i < in.n_tamper; i++) dup_listed |= !strcmp(in.tamper[i], "freshness.duplicate_frame");
    if (F->cho.duplicates > 0 && !dup_listed && in.n_tamper < 8) in.tamper[in.n_tamper++] = "freshness.duplicate_frame";
    in.quality_ok = F->rr.all_good && F->rr.complete && F->rr.finished;
    in.liveness_available = F->rr.liveness_ok;
    in.live_score = F->rr.live_score;
    in.has_reference = ss->ref_dim > 0;
    in.embedding_ok = F->rr.emb_dim > 0 && isfinite(F->similarity);
    in.similarity = isfinite(F->similarity) ? F->similarity : 0;
    in.n_signals = F->n_sig;
    for (int i = 0; i < F->n_sig; i++) in.signals[i] = F->sig[i];
    vf_policy_decide(pc, &in, pr);
}

/* ---- 8. record: the attempt's detail (for the integrator) and the page's answer --------------- */

static void num_or_null(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v); else cJSON_AddNullToObject(o, k);
}

static cJSON *reasons_json(const vf_policy_result *p) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < p->n_reasons; i++) cJSON_AddItemToArray(a, cJSON_CreateString(p->reasons[i]));
    return a;
}

/* Everything the integrator may want to know about this attempt (GET /v1/sessions/{id}). The
 * client's free-form objects (module, capture, signals; size-limited by package.c) are stored in
 * this record only, not again in the audit row. */
static cJSON *detail_json(job *j, facts *F, const vf_policy_result *pr, double t0) {
    vf_srv *s = j->s;
    const vf_srv_rerun *rr = &F->rr;
    cJSON *d = F->signals_detail;   /* the signal scorer's facts go first */
    F->signals_detail = NULL;
    cJSON_AddNumberToObject(d, "attempt", j->ss->attempt);
    cJSON_AddStringToObject(d, "decision", vf_decision_name(pr->decision));
    cJSON_AddStringToObject(d, "hint", vf_retry_hint_name(pr->hint));
    cJSON_AddItemToObject(d, "reasons", reasons_json(pr));
    cJSON *sv = cJSON_AddObjectToObject(d, "server");
    cJSON_AddBoolToObject(sv, "quality_ok", rr->all_good && rr->complete && rr->finished);
    cJSON *guid = cJSON_AddArrayToObject(sv, "guidance");
    for (int i = 0; i < rr->n; i++) cJSON_AddItemToArray(guid, cJSON_CreateNumber(rr->st[i].quality.guidance));
    cJSON_AddStringToObject(sv, "liveness_status", rr->liveness_ok ? "ok" : vf_srv_engines_have_pad(s->engines) ? "not_run" : "no_model");
    num_or_null(sv, "live_score", rr->liveness_ok ? rr->live_score : NAN);
    cJSON *lsc = cJSON_AddArrayToObject(sv, "live_scores");
    for (int i = 0; i < rr->n_live; i++) cJSON_AddItemToArray(lsc, cJSON_CreateNumber(rr->live_scores[i]));
    cJSON_AddNumberToObject(sv, "live_threshold", pr->live_threshold);
    num_or_null(sv, "live_score_on_client_frames", F->tr.server_live_on_client_frames);
    num_or_null(sv, "match_similarity", F->similarity);
    vf_match_band band = isfinite(F->similarity) ? vf_match_band_of(F->similarity) : VF_MATCH_NONE;
    cJSON_AddStringToObject(sv, "match_band", band == VF_MATCH_STRONG ? "strong" : band == VF_MATCH_WEAK ? "weak" : "none");
    num_or_null(sv, "embedding_cosine_client", F->tr.embedding_cos);
    if (F->challenge_detail) { cJSON_AddItemToObject(sv, "challenge", F->challenge_detail); F->challenge_detail = NULL; }
    cJSON_AddNumberToObject(sv, "rerun_ms", rr->ms);
    cJSON *cl = cJSON_AddObjectToObject(d, "client");
    num_or_null(cl, "live_score", F->tr.client_live);
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j->pkg.result, "liveness"), "outcome");
    cJSON_AddStringToObject(cl, "liveness_outcome", cJSON_IsString(lv) ? lv->valuestring : "?");
    if (j->pkg.module) cJSON_AddItemToObject(d, "module", cJSON_Duplicate(j->pkg.module, 1));
    if (j->pkg.capture) cJSON_AddItemToObject(d, "capture", cJSON_Duplicate(j->pkg.capture, 1));
    if (j->pkg.signals) cJSON_AddItemToObject(d, "signals", cJSON_Duplicate(j->pkg.signals, 1));
    cJSON_AddItemToObject(d, "tamper", F->tr.detail);
    F->tr.detail = NULL;
    cJSON_AddItemToObject(d, "freshness", j->fresh->detail);
    j->fresh->detail = NULL;
    cJSON_AddItemToObject(d, "models", vf_srv_models_json(s));
    cJSON_AddStringToObject(d, "engine", vf_version());
    cJSON_AddStringToObject(d, "request_sha256", j->req_hash);
    cJSON_AddNumberToObject(d, "decide_ms", vf_srv_mono_ms() - t0);
    return d;
}

/* The page's answer: the generic message, whether the attempt was final, whether a retry is
 * allowed and with which nonce, and the challenge that retry must answer. Never the decision or
 * its reasons: a page that learns which check failed can tune a spoof attempt by attempt. */
static cJSON *answer_json(const job *j, const vf_policy_result *pr, const char *next_nonce, const vf_challenge_config *next_challenge) {
    static const char MSG_DONE[] = "Thank you. Your verification has been received.";
    static const char MSG_AGAIN[] = "We could not complete the verification. Please try again.";
    static const char MSG_STEP[] = "One more step: please follow the instructions on the screen.";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", j->ss->id);
    cJSON_AddNumberToObject(o, "attempt", j->ss->attempt);
    cJSON_AddBoolToObject(o, "final", pr->final);
    cJSON_AddStringToObject(o, "message", pr->final ? MSG_DONE : next_challenge ? MSG_STEP : MSG_AGAIN);
    cJSON *rt = cJSON_AddObjectToObject(o, "retry");
    cJSON_AddBoolToObject(rt, "allowed", !pr->final);
    if (pr->final) cJSON_AddNullToObject(rt, "next_nonce"); else cJSON_AddStringToObject(rt, "next_nonce", next_nonce);
    if (next_challenge) cJSON_AddItemToObject(o, "challenge", vf_srv_challenge_json(next_challenge, next_nonce));
    return o;
}

/* Measure, decide, record, answer. Returns 2 (nothing answered) when the store refused the commit
 * because a concurrent decision indexed one of the frames after the freshness search and this is
 * not the `last` pass; else 0. */
static int conclude(job *j, int last) {
    vf_srv *s = j->s;
    vf_srv_session *ss = j->ss;
    double t0 = vf_srv_mono_ms();
    facts *F = calloc(1, sizeof *F);
    if (!F) return reject(j, 500, "internal", "out of memory");
    if (!measure(j, F)) { facts_clear(F); free(F); return 0; }
    vf_policy_config pc;
    vf_policy_result pr;
    decide(j, F, &pc, &pr);
    /* the next attempt: a fresh nonce; in adaptive mode every retry answers a challenge, so the
     * page cannot tell an uncertain liveness from any other retry */
    char next_nonce[48] = "";
    const vf_challenge_config *next_challenge = NULL;
    if (!pr.final) {
        uint8_t rnd[32];
        if (vf_srv_random(rnd, sizeof rnd)) { facts_clear(F); free(F); return reject(j, 500, "internal", "no randomness"); }
        vf_srv_b64url_encode(rnd, 32, next_nonce);
        if (vf_policy_next_challenge(&pc, 0, pr.decision) || pc.mode == VF_MODE_ADAPTIVE) next_challenge = &ss->cfg.challenge;
    }
    cJSON *detail = detail_json(j, F, &pr, t0);
    cJSON *answer = answer_json(j, &pr, next_nonce, next_challenge);
    char *dj = cJSON_PrintUnformatted(detail), *aj = cJSON_PrintUnformatted(answer);
    /* the audit row: the decision, its reasons and a pointer to the attempt's record */
    cJSON *rj = reasons_json(&pr), *ad = cJSON_CreateObject();
    cJSON_AddStringToObject(ad, "record", "attempts.detail");
    cJSON_AddNumberToObject(ad, "attempt", ss->attempt);
    char *rs = cJSON_PrintUnformatted(rj), *ads = cJSON_PrintUnformatted(ad);
    cJSON_Delete(rj);
    cJSON_Delete(ad);
    vf_srv_audit a = {"result", ss->id, j->req_hash, j->q->remote, ss->attempt, 200, vf_decision_name(pr.decision),
                      vf_decision_name(pr.decision), rs, ads};
    vf_srv_outcome out = {ss->attempt, vf_decision_name(pr.decision), pr.final, dj, pr.liveness_uncertain, pr.liveness_failed,
                          pr.challenge_met, pr.final ? NULL : next_nonce, next_challenge ? "sequence" : NULL, vf_srv_now_ms(),
                          j->fresh->prints, j->fresh->n, j->fresh->index_seen,
                          pr.decision == VF_DECISION_REJECT ? NULL : &s->cfg.freshness,   /* a reject stays one */
                          j->req_hash, aj, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL};   /* event, photo, embedding: below */
    /* a final decision with a webhook_url: its event, written with the decision (the outbox) */
    char event_id[48] = "", *ej = NULL;
    if (pr.final && ss->webhook_url[0]) {
        cJSON *ev = vf_srv_outbox_event_json(ss, ss->attempt, vf_decision_name(pr.decision), reasons_json(&pr), F->similarity,
                                             F->rr.liveness_ok ? F->rr.live_score : NAN, F->photo.jpeg != NULL, out.now);
        ej = cJSON_PrintUnformatted(ev);
        cJSON_Delete(ev);
        snprintf(event_id, sizeof event_id, "%s-%d", ss->id, ss->attempt);
        out.event_id = event_id;
        out.event_url = ss->webhook_url;
        out.event_integrator = ss->integrator;
        out.event_body = ej;
    }
    if (F->photo.jpeg) {
        out.photo = F->photo.jpeg;
        out.photo_len = F->photo.len;
        out.photo_w = F->photo.width;
        out.photo_h = F->photo.height;
        out.photo_score = F->photo.quality_score;
        out.photo_expires_at = out.now + (int64_t)s->cfg.photo_retention_s * 1000;
    }
    /* the server's embedding of an approved or reviewed capture, for the collections (a face added
     * from this session), in the decision's transaction: an acknowledged decision has its
     * embedding; a rejected capture's template is not kept */
    if (F->rr.emb_dim > 0 && (pr.decision == VF_DECISION_APPROVE || pr.decision == VF_DECISION_REVIEW)) {
        out.emb = F->rr.emb;
        out.emb_dim = F->rr.emb_dim;
        out.emb_model = vf_srv_engines_hash(s->engines, VF_ROLE_EMBEDDER);
    }
    int rc = dj && aj && rs && ads && (!out.event_id || ej) ? vf_srv_store_record_outcome(s->store, ss->id, &out, &a) : -1;
    free(dj); free(aj); free(rs); free(ads); free(ej);
    cJSON_Delete(detail);
    facts_clear(F);
    free(F);
    if (rc) {
        cJSON_Delete(answer);
        if (rc == 2 && !last) return 2;
        if (rc == 1) return reject(j, 409, "nonce_replayed", "this nonce was already used");
        /* no answer without its record: the client may post the same package again */
        return reject(j, 500, "storage", "the decision could not be recorded; nothing was decided");
    }
    vf_srv_metrics_decision(s->metrics, vf_decision_name(pr.decision));
    if (event_id[0]) vf_srv_outbox_kick(s->outbox);
    vf_srv_reply_json(j->r, 200, answer);
    return 0;
}

void vf_srv_result(vf_srv *s, const vf_srv_request *q, const char *url_id, vf_srv_reply *r) {
    job j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.q = q;
    j.r = r;
    if (strlen(url_id) == 32) snprintf(j.id, sizeof j.id, "%s", url_id);
    if (q->body) vf_srv_sha256_hex(q->body, q->len, j.req_hash);
    if (!parse(&j, url_id) || !session(&j) || !verify_signature(&j) || answered_before(&j) || !verify(&j)) goto out;
    j.w = vf_srv_engines_acquire(s->engines);
    if (!frames(&j)) goto out;
    /* one package per session at a time; the nonce itself is spent with the decision */
    if (!vf_srv_inflight_claim(s->inflight, j.id)) { reject(&j, 409, "nonce_replayed", "this nonce is being used"); goto out; }
    /* fresh frames (their findings are tamper reasons), then measure, decide, record, answer;
     * if a concurrent decision indexed one of the frames meanwhile, once more from the search */
    for (int pass = 0; fresh(&j) && conclude(&j, pass == 1) == 2; pass++) {}
    vf_srv_inflight_release(s->inflight, j.id);
out:
    if (j.w) vf_srv_engines_release(s->engines, j.w);
    for (int i = 0; i < j.nf; i++) { free(j.f[i].bytes); vf_image_buffer_free(&j.f[i].img); }
    vf_srv_package_free(&j.pkg);
    free(j.ss);
    if (j.fresh) vf_srv_freshness_clear(j.fresh);
    free(j.fresh);
}
