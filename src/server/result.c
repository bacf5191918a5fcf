/* result.c - POST /v1/sessions/{id}/result: the checks of PACKAGE.md section 3 in their order
 * (first failure answers, audited, nothing else changes), then the re-run, the tamper comparison,
 * signals, match, policy; the outcome and its audit record are committed before the answer. */
#include "freshness.h"
#include "rerun.h"
#include "active.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


typedef struct pkg_frame {
    int index;
    double timestamp;
    const cJSON *status;
    uint8_t *bytes; size_t n;
    vf_image_buffer img;
} pkg_frame;

typedef struct job {
    vf_srv *s;
    const vf_srv_request *q;
    vf_srv_reply *r;
    char id[33];
    int attempt;                       /* the session's current attempt, once known */
    char req_hash[65];
    cJSON *pkg;
    vf_srv_session *ss;
    pkg_frame f[VF_SRV_MAX_FRAMES];
    int nf;
    vf_srv_worker *w;
    int64_t now;                       /* server time the package arrived */
    vf_srv_freshness *fresh;           /* findings of freshness.c, tamper reasons for the policy */
} job;

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A rejection: the error reply and its audit record. Returns 0 for `return reject(...)`. */
static int reject(job *j, int status, const char *code, const char *fmt, const char *arg) {
    vf_srv_reply_error(j->r, status, code, fmt, arg ? arg : "");
    vf_srv_audit_reject(j->s, j->q, "result", j->id[0] ? j->id : NULL, j->attempt, j->r, code);
    return 0;
}

static int is_hex64(const char *s) {
    if (strlen(s) != 64) return 0;
    for (; *s; s++) if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static int is_int(const cJSON *x) { return cJSON_IsNumber(x) && x->valuedouble == (double)(long long)x->valuedouble && fabs(x->valuedouble) < 9e15; }

/* 400 bad_schema unless every field has its type (PACKAGE.md section 3). */
static int check_schema(job *j, const char *url_id) {
    const cJSON *p = j->pkg;
    const cJSON *fmt = item(p, "format"), *sid = item(p, "session_id"), *nonce = item(p, "nonce"), *att = item(p, "attempt");
    const cJSON *ca = item(p, "created_at"), *models = item(p, "models"), *res = item(p, "result"), *frames = item(p, "frames");
    const cJSON *sig = item(p, "signals");
    if (!is_int(fmt) || fmt->valueint != 1) return reject(j, 400, "bad_schema", "format must be 1%s", NULL);
    if (!cJSON_IsString(sid) || strcmp(sid->valuestring, url_id)) return reject(j, 400, "bad_schema", "session_id must equal the URL's%s", NULL);
    if (!cJSON_IsString(nonce) || strlen(nonce->valuestring) > 64) return reject(j, 400, "bad_schema", "nonce must be a string%s", NULL);
    if (!is_int(att) || att->valuedouble < 1) return reject(j, 400, "bad_schema", "attempt must be a positive integer%s", NULL);
    if (!is_int(ca)) return reject(j, 400, "bad_schema", "created_at must be an integer (ms since the epoch)%s", NULL);
    if (!cJSON_IsObject(models)) return reject(j, 400, "bad_schema", "models must be an object%s", NULL);
    for (int i = 0; i < VF_ROLE_COUNT; i++)
        if (!cJSON_IsString(item(models, vf_model_roles(NULL)[i].name))) return reject(j, 400, "bad_schema", "models.%s must be a string", vf_model_roles(NULL)[i].name);
    if (!cJSON_IsObject(res)) return reject(j, 400, "bad_schema", "result must be an object%s", NULL);
    if (!cJSON_IsArray(frames)) return reject(j, 400, "bad_schema", "frames must be an array%s", NULL);
    if (sig && !cJSON_IsObject(sig)) return reject(j, 400, "bad_schema", "signals must be an object%s", NULL);
    const cJSON *fr;
    cJSON_ArrayForEach(fr, frames) {
        if (!cJSON_IsObject(fr) || !is_int(item(fr, "index")) || !cJSON_IsNumber(item(fr, "timestamp")) || !is_int(item(fr, "width")) ||
            !is_int(item(fr, "height")) || !cJSON_IsString(item(fr, "mime")) || !cJSON_IsString(item(fr, "sha256")) ||
            !cJSON_IsString(item(fr, "data")) || !cJSON_IsObject(item(fr, "status")))
            return reject(j, 400, "bad_schema", "each frame needs index, timestamp, width, height, mime, sha256, data, status%s", NULL);
        double ix = item(fr, "index")->valuedouble, w = item(fr, "width")->valuedouble, hh = item(fr, "height")->valuedouble;
        double t = item(fr, "timestamp")->valuedouble;
        if (ix < 0 || ix > 1e9 || w < 1 || w > 65535 || hh < 1 || hh > 65535 || !isfinite(t))
            return reject(j, 400, "bad_schema", "frame index 0..1e9, width and height 1..65535, finite timestamp%s", NULL);
    }
    return 1;
}

/* Frames: count, base64, hash, header limits, decode (PACKAGE.md's last row, in that order). */
static int check_frames(job *j) {
    vf_srv *s = j->s;
    const cJSON *frames = item(j->pkg, "frames"), *fr;
    int want = j->ss->cfg.session.good_frames;
    if (cJSON_GetArraySize(frames) != want) {
        char m[64];
        snprintf(m, sizeof m, "%d", want);
        return reject(j, 400, "bad_frames", "frames must hold exactly good_frames = %s entries", m);
    }
    int i = 0;
    cJSON_ArrayForEach(fr, frames) {
        pkg_frame *f = &j->f[i++];
        j->nf = i;
        const char *mime = item(fr, "mime")->valuestring, *data = item(fr, "data")->valuestring;
        if (strcmp(mime, "image/jpeg") && strcmp(mime, "image/png")) return reject(j, 400, "bad_frames", "mime must be image/jpeg or image/png%s", NULL);
        f->index = item(fr, "index")->valueint;
        f->timestamp = item(fr, "timestamp")->valuedouble;
        f->status = item(fr, "status");
        f->bytes = vf_srv_b64_decode(data, strlen(data), 0, &f->n);
        if (!f->bytes || f->n == 0) return reject(j, 400, "bad_frames", "frame data is not valid base64%s", NULL);
    }
    i = 0;
    cJSON_ArrayForEach(fr, frames) {
        char h[65];
        vf_srv_sha256_hex(j->f[i].bytes, j->f[i].n, h);
        const char *claimed = item(fr, "sha256")->valuestring;
        if (!is_hex64(claimed) || strcmp(h, claimed)) return reject(j, 400, "frame_hash_mismatch", "frame sha256 does not match its bytes%s", NULL);
        i++;
    }
    const vf_srv_limits *l = &s->cfg.limits;
    const vf_session_config *sc = &j->ss->cfg.session;
    vf_image_limits lim = vf_image_default_limits();
    lim.max_input_bytes = l->max_body;
    lim.max_decoder_bytes = 256u << 20;
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = VF_PIXEL_RGBA8;    /* the client pushes RGBA ImageData */
    o.apply_orientation = 0;      /* canvas-encoded frames carry no EXIF; never rotate a claimed frame */
    o.limits = lim;
    i = 0;
    cJSON_ArrayForEach(fr, frames) {
        pkg_frame *f = &j->f[i++];
        vf_image_info info;
        if (vf_image_probe(j->w->ctx, f->bytes, f->n, &lim, &info)) return reject(j, 422, "corrupt_image", "frame: %s", vf_context_last_error(j->w->ctx));
        int mw = sc->max_width < l->max_frame_width ? sc->max_width : l->max_frame_width;
        int mh = sc->max_height < l->max_frame_height ? sc->max_height : l->max_frame_height;
        if (info.stored_width > mw || info.stored_height > mh || (int64_t)info.stored_width * info.stored_height > l->max_frame_pixels)
            return reject(j, 422, "frame_too_large", "frame larger than the session's maximum frame size%s", NULL);
        if (info.stored_width != item(fr, "width")->valueint || info.stored_height != item(fr, "height")->valueint)
            return reject(j, 400, "bad_frames", "frame width/height differ from the image's%s", NULL);
        if (vf_image_decode(j->w->ctx, f->bytes, f->n, &o, &f->img, NULL))
            return reject(j, 422, "corrupt_image", "frame: %s", vf_context_last_error(j->w->ctx));
    }
    return 1;
}

/* Frames that are new (freshness.c): no duplicates, none of an earlier package, timestamps. */
static int check_freshness(job *j) {
    vf_image_buffer imgs[VF_SRV_MAX_FRAMES];
    const uint8_t *bytes[VF_SRV_MAX_FRAMES];
    size_t sizes[VF_SRV_MAX_FRAMES];
    double ts[VF_SRV_MAX_FRAMES];
    for (int i = 0; i < j->nf; i++) { imgs[i] = j->f[i].img; bytes[i] = j->f[i].bytes; sizes[i] = j->f[i].n; ts[i] = j->f[i].timestamp; }
    vf_srv_fresh_input in = {imgs, bytes, sizes, ts, j->nf, item(j->pkg, "created_at")->valuedouble, j->now, j->ss->nonce_issued_at,
                             item(j->pkg, "signals")};
    if (j->fresh) vf_srv_freshness_clear(j->fresh);
    else if (!(j->fresh = malloc(sizeof *j->fresh))) return reject(j, 500, "internal", "out of memory%s", NULL);
    if (vf_srv_freshness_check(j->s, &in, j->fresh)) {
        free(j->fresh);
        j->fresh = NULL;
        return reject(j, 500, "internal", "the freshness check failed%s", NULL);
    }
    return 1;
}

static cJSON *reasons_json(const vf_policy_result *p) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < p->n_reasons; i++) cJSON_AddItemToArray(a, cJSON_CreateString(p->reasons[i]));
    return a;
}

static void num_or_null(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v); else cJSON_AddNullToObject(o, k);
}

/* Everything after the checks: re-run, compare, decide, commit, answer. Returns 2 (nothing
 * answered) when the store refused the commit because a concurrent decision indexed one of the
 * frames after the freshness search and this is not the `last` pass; else 0. */
static int decide(job *j, int last) {
    vf_srv *s = j->s;
    vf_srv_session *ss = j->ss;
    double t0 = mono_ms();
    if (!j->w) j->w = vf_srv_engines_acquire(s->engines);   /* a second pass */
    static const size_t RR = sizeof(vf_srv_rerun), TR = sizeof(vf_srv_tamper_result);
    vf_srv_rerun *rr = malloc(RR);
    vf_srv_tamper_result *tr = malloc(TR);
    if (!rr || !tr) { free(rr); free(tr); return reject(j, 500, "internal", "out of memory%s", NULL); }
    vf_image_buffer imgs[VF_SRV_MAX_FRAMES];
    double ts[VF_SRV_MAX_FRAMES];
    int cidx[VF_SRV_MAX_FRAMES];
    const cJSON *status[VF_SRV_MAX_FRAMES];
    for (int i = 0; i < j->nf; i++) { imgs[i] = j->f[i].img; ts[i] = j->f[i].timestamp; cidx[i] = j->f[i].index; status[i] = j->f[i].status; }
    /* the session plans frame memory for its maximum size: plan for these frames only */
    vf_session_config plan = ss->cfg.session;
    plan.max_width = plan.max_height = 16;
    for (int i = 0; i < j->nf; i++) {
        if (imgs[i].width > plan.max_width) plan.max_width = imgs[i].width;
        if (imgs[i].height > plan.max_height) plan.max_height = imgs[i].height;
    }
    if (vf_srv_rerun_run(j->w, &plan, imgs, ts, j->nf, rr)) {
        fprintf(stderr, "veriface-server: re-run failed: %s\n", vf_context_last_error(j->w->ctx));
        free(rr); free(tr);
        return reject(j, 500, "internal", "the re-run failed%s", NULL);
    }
    const cJSON *result = item(j->pkg, "result");
    vf_srv_tamper_compare(j->w, &s->cfg, &ss->cfg.session, imgs, cidx, ts, status, j->nf, result, rr, tr);
    /* the active challenge: the server's own measurements of the challenge frames (active.c) */
    vf_srv_challenge_out cho;
    memset(&cho, 0, sizeof cho);
    cJSON *chd = NULL;
    if (ss->challenge[0]) {
        int st = 0;
        const char *code = "internal";
        char msg[300];
        chd = cJSON_CreateObject();
        if (vf_srv_challenge_check(j->w, &ss->cfg.challenge, ss->nonce, item(j->pkg, "challenge"), item(j->pkg, "frames"), &cho, chd, &st,
                                   &code, msg, sizeof msg)) {
            cJSON_Delete(chd); cJSON_Delete(tr->detail); vf_srv_rerun_release(rr); free(rr); free(tr);
            return reject(j, st, code, "%s", msg);
        }
    }
    vf_srv_rerun_release(rr);
    vf_srv_engines_release(s->engines, j->w);
    j->w = NULL;

    cJSON *detail = cJSON_CreateObject();
    const char *sig_reasons[8];
    int n_sig = vf_srv_signals_score(item(j->pkg, "signals"), sig_reasons, 8, detail);
    float sim = NAN;
    if (ss->ref_dim > 0 && rr->emb_dim == ss->ref_dim) sim = vf_match_similarity(rr->emb, ss->ref, ss->ref_dim);

    vf_policy_config pc = s->cfg.policy;
    pc.mode = ss->cfg.liveness_type;
    pc.max_retries = ss->cfg.max_retries;
    pc.live_pass = ss->cfg.session.live_pass;
    pc.live_fail = ss->cfg.session.live_fail;
    pc.match_threshold = ss->cfg.face_match_threshold;
    vf_policy_input in;
    memset(&in, 0, sizeof in);
    in.attempt = ss->attempt;
    in.uncertain_before = ss->uncertain_count;
    in.fail_before = ss->fail_count;
    in.challenge_pending = ss->challenge[0] != 0;
    in.challenge_met = in.challenge_pending && cho.r.met;
    for (int i = 0; i < cho.r.n_reasons && in.n_challenge < 8; i++) in.challenge[in.n_challenge++] = cho.r.reasons[i];
    in.n_tamper = tr->n;
    for (int i = 0; i < tr->n; i++) in.tamper[i] = tr->reasons[i];
    for (int i = 0; i < j->fresh->n_reasons && in.n_tamper < 8; i++) in.tamper[in.n_tamper++] = j->fresh->reasons[i];
    int dup_listed = 0;
    for (int i = 0; i < in.n_tamper; i++) dup_listed |= !strcmp(in.tamper[i], "freshness.duplicate_frame");
    if (cho.duplicates > 0 && !dup_listed && in.n_tamper < 8) in.tamper[in.n_tamper++] = "freshness.duplicate_frame";
    in.quality_ok = rr->all_good && rr->complete && rr->finished;
    in.liveness_available = rr->liveness_ok;
    in.live_score = rr->live_score;
    in.has_reference = ss->ref_dim > 0;
    in.embedding_ok = rr->emb_dim > 0 && isfinite(sim);
    in.similarity = isfinite(sim) ? sim : 0;
    in.n_signals = n_sig;
    for (int i = 0; i < n_sig; i++) in.signals[i] = sig_reasons[i];
    vf_policy_result pr;
    vf_policy_decide(&pc, &in, &pr);

    /* next attempt: a fresh nonce, and the challenge the policy asks for (derived from that nonce) */
    char next_nonce[48] = "";
    const char *next_challenge = NULL;
    if (!pr.final) {
        uint8_t rnd[32];
        if (vf_srv_random(rnd, sizeof rnd)) { cJSON_Delete(detail); cJSON_Delete(chd); cJSON_Delete(tr->detail); free(rr); free(tr); return reject(j, 500, "internal", "no randomness%s", NULL); }
        vf_srv_b64url_encode(rnd, 32, next_nonce);
        if (vf_policy_next_challenge(&pc, 0, pr.decision)) next_challenge = "sequence";
    }

    /* the attempt's record: server and client numbers, reasons, signals, versions */
    cJSON_AddNumberToObject(detail, "attempt", ss->attempt);
    cJSON_AddStringToObject(detail, "decision", vf_decision_name(pr.decision));
    cJSON_AddStringToObject(detail, "hint", vf_retry_hint_name(pr.hint));
    cJSON_AddItemToObject(detail, "reasons", reasons_json(&pr));
    cJSON *sv = cJSON_AddObjectToObject(detail, "server");
    cJSON_AddBoolToObject(sv, "quality_ok", in.quality_ok);
    cJSON *guid = cJSON_AddArrayToObject(sv, "guidance");
    for (int i = 0; i < rr->n; i++) cJSON_AddItemToArray(guid, cJSON_CreateNumber(rr->st[i].quality.guidance));
    cJSON_AddStringToObject(sv, "liveness_status", rr->liveness_ok ? "ok" : vf_srv_engines_have_pad(s->engines) ? "not_run" : "no_model");
    num_or_null(sv, "live_score", rr->liveness_ok ? rr->live_score : NAN);
    cJSON *lsc = cJSON_AddArrayToObject(sv, "live_scores");
    for (int i = 0; i < rr->n_live; i++) cJSON_AddItemToArray(lsc, cJSON_CreateNumber(rr->live_scores[i]));
    cJSON_AddNumberToObject(sv, "live_threshold", pr.live_threshold);
    num_or_null(sv, "live_score_on_client_frames", tr->server_live_on_client_frames);
    num_or_null(sv, "match_similarity", sim);
    cJSON_AddStringToObject(sv, "match_band", !isfinite(sim) ? "none" : vf_match_band_of(sim) == VF_MATCH_STRONG ? "strong" : vf_match_band_of(sim) == VF_MATCH_WEAK ? "weak" : "none");
    num_or_null(sv, "embedding_cosine_client", tr->embedding_cos);
    if (chd) cJSON_AddItemToObject(sv, "challenge", chd);
    cJSON_AddNumberToObject(sv, "rerun_ms", rr->ms);
    cJSON *cl = cJSON_AddObjectToObject(detail, "client");
    num_or_null(cl, "live_score", tr->client_live);
    const cJSON *lv = item(item(result, "liveness"), "outcome");
    cJSON_AddStringToObject(cl, "liveness_outcome", cJSON_IsString(lv) ? lv->valuestring : "?");
    if (item(j->pkg, "module")) cJSON_AddItemToObject(detail, "module", cJSON_Duplicate(item(j->pkg, "module"), 1));
    if (item(j->pkg, "capture")) cJSON_AddItemToObject(detail, "capture", cJSON_Duplicate(item(j->pkg, "capture"), 1));
    if (item(j->pkg, "signals")) cJSON_AddItemToObject(detail, "signals", cJSON_Duplicate(item(j->pkg, "signals"), 1));
    cJSON_AddItemToObject(detail, "tamper", tr->detail);
    tr->detail = NULL;
    cJSON_AddItemToObject(detail, "freshness", j->fresh->detail);
    j->fresh->detail = NULL;
    cJSON_AddItemToObject(detail, "models", vf_srv_models_json(s));
    cJSON_AddStringToObject(detail, "engine", vf_version());
    cJSON_AddStringToObject(detail, "request_sha256", j->req_hash);
    cJSON_AddNumberToObject(detail, "decide_ms", mono_ms() - t0);
    char *dj = cJSON_PrintUnformatted(detail);
    cJSON *rj = reasons_json(&pr);
    char *rs = cJSON_PrintUnformatted(rj);
    cJSON_Delete(rj);

    vf_srv_audit a = {"result", ss->id, j->req_hash, j->q->remote, ss->attempt, 200, vf_decision_name(pr.decision),
                      vf_decision_name(pr.decision), rs, dj};
    vf_srv_outcome out = {ss->attempt, vf_decision_name(pr.decision), pr.final, dj, pr.liveness_uncertain, pr.liveness_failed,
                          pr.challenge_met, pr.final ? NULL : next_nonce, next_challenge, vf_srv_now_ms(),
                          j->fresh->prints, j->fresh->n, j->fresh->index_seen,
                          pr.decision == VF_DECISION_REJECT ? NULL : &s->cfg.freshness};   /* a reject stays one */
    int rc = vf_srv_store_record_outcome(s->store, ss->id, &out, &a);
    free(dj);
    free(rs);
    cJSON_Delete(detail);
    if (rc) {
        free(rr); free(tr);
        if (rc == 2 && !last) return 2;
        if (rc == 1) return reject(j, 409, "nonce_replayed", "this nonce was already used%s", NULL);
        /* no answer without its record: the client may post the same package again */
        return reject(j, 500, "storage", "the decision could not be recorded; nothing was decided%s", NULL);
    }
    vf_srv_metrics_decision(s->metrics, vf_decision_name(pr.decision));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", ss->id);
    cJSON_AddNumberToObject(o, "attempt", ss->attempt);
    cJSON_AddStringToObject(o, "decision", vf_decision_name(pr.decision));
    cJSON_AddStringToObject(o, "message", pr.message);
    cJSON *rt = cJSON_AddObjectToObject(o, "retry");
    int remaining = ss->cfg.max_retries - ss->attempt;
    cJSON_AddBoolToObject(rt, "allowed", !pr.final);
    cJSON_AddNumberToObject(rt, "remaining", remaining > 0 ? remaining : 0);
    cJSON_AddStringToObject(rt, "hint", vf_retry_hint_name(pr.hint));
    if (pr.final) cJSON_AddNullToObject(rt, "next_nonce"); else cJSON_AddStringToObject(rt, "next_nonce", next_nonce);
    if (next_challenge) cJSON_AddItemToObject(o, "challenge", vf_srv_challenge_json(&ss->cfg.challenge, next_nonce));
    vf_srv_reply_json(j->r, 200, o);
    free(rr);
    free(tr);
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
    /* 1. JSON and schema */
    j.pkg = q->body ? cJSON_ParseWithLength((const char *)q->body, q->len) : NULL;
    if (!j.pkg || !cJSON_IsObject(j.pkg)) { reject(&j, 400, "bad_json", "body is not a JSON object%s", NULL); goto out; }
    if (!check_schema(&j, url_id)) goto out;
    /* 2. session */
    j.ss = malloc(sizeof *j.ss);
    if (!j.ss) { reject(&j, 500, "internal", "out of memory%s", NULL); goto out; }
    int found = j.id[0] ? vf_srv_store_get_session(s->store, j.id, j.ss) : 0;
    if (found < 0) { reject(&j, 500, "storage", "session lookup failed%s", NULL); goto out; }
    if (!found) { reject(&j, 404, "unknown_session", "no such session%s", NULL); goto out; }
    j.attempt = j.ss->attempt;
    if (s->cfg.limits.per_session_per_min > 0 && !vf_srv_ratelimit_take(s->session_limit, j.id, mono_ms() / 1e3)) {
        reject(&j, 429, "rate_limited", "too many packages for this session%s", NULL);
        goto out;
    }
    /* 3. state */
    int64_t now = j.now = vf_srv_now_ms();
    if (j.ss->final) { reject(&j, 409, "session_closed", "the session is already decided%s", NULL); goto out; }
    if (now >= j.ss->expires_at) { reject(&j, 410, "session_expired", "the session has expired%s", NULL); goto out; }
    /* 4. signature over the exact body bytes */
    size_t sl = 0;
    uint8_t *sig = q->signature ? vf_srv_b64_decode(q->signature, strlen(q->signature), 1, &sl) : NULL;
    int good_sig = sig && vf_srv_verify_p1363(j.ss->pubkey, j.ss->pubkey_len, q->body, q->len, sig, sl);
    free(sig);
    if (!good_sig) { reject(&j, 401, "bad_signature", "X-Veriface-Signature does not verify with the session's key%s", NULL); goto out; }
    /* 5. nonce (read here; spent in the transaction that records the decision) */
    const char *nonce = item(j.pkg, "nonce")->valuestring;
    if (strcmp(nonce, j.ss->nonce) || j.ss->nonce_used) {
        if (vf_srv_store_nonce_used(s->store, j.id, nonce)) reject(&j, 409, "nonce_replayed", "this nonce was already used%s", NULL);
        else reject(&j, 400, "nonce_mismatch", "nonce is not the current attempt's%s", NULL);
        goto out;
    }
    if (item(j.pkg, "attempt")->valueint != j.ss->attempt) { reject(&j, 400, "nonce_mismatch", "attempt is not the current attempt%s", NULL); goto out; }
    /* 6. freshness */
    double created = item(j.pkg, "created_at")->valuedouble;
    if (fabs(created - (double)now) > s->cfg.limits.max_clock_skew_s * 1000.0 ||
        now - j.ss->nonce_issued_at > (int64_t)s->cfg.limits.nonce_ttl_s * 1000) {
        reject(&j, 400, "stale_package", "created_at is off the server clock or the nonce is too old%s", NULL);
        goto out;
    }
    /* 7. models */
    for (int i = 0; i < VF_ROLE_COUNT; i++)
        if (strcmp(item(item(j.pkg, "models"), vf_model_roles(NULL)[i].name)->valuestring, vf_srv_engines_hash(s->engines, i))) {
            reject(&j, 422, "model_mismatch", "models.%s is not the server's model", vf_model_roles(NULL)[i].name);
            goto out;
        }
    /* 8. frames (decoded with the worker's context, kept for the re-run) */
    j.w = vf_srv_engines_acquire(s->engines);
    if (!check_frames(&j)) goto out;
    /* 9. one package per session at a time; the nonce itself is spent with the decision */
    if (!vf_srv_inflight_claim(s->inflight, j.id)) { reject(&j, 409, "nonce_replayed", "this nonce is being used%s", NULL); goto out; }
    /* 10. fresh frames (their findings are tamper reasons), then re-run, compare, decide, commit;
     * if a concurrent decision indexed one of the frames meanwhile, once more from the search */
    for (int pass = 0; check_freshness(&j) && decide(&j, pass == 1) == 2; pass++) {}
    vf_srv_inflight_release(s->inflight, j.id);
out:
    if (j.w) vf_srv_engines_release(s->engines, j.w);
    for (int i = 0; i < j.nf; i++) { free(j.f[i].bytes); vf_image_buffer_free(&j.f[i].img); }
    cJSON_Delete(j.pkg);
    free(j.ss);
    if (j.fresh) vf_srv_freshness_clear(j.fresh);
    free(j.fresh);
}
