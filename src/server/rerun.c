/* rerun.c - the server's re-run of the capture and the tamper comparison (PACKAGE.md section 3).
 * The decision uses the server's numbers only; the client's are compared with them. */
#include "rerun.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int vf_srv_rerun_run(vf_srv_worker *w, const vf_session_config *cfg, const vf_image_buffer *frames, const double *ts, int n,
                     vf_srv_rerun *o) {
    memset(o, 0, sizeof *o);
    double t0 = vf_srv_mono_ms();
    vf_session *s = NULL;
    if (vf_session_create(w->engine, cfg, &s)) return -1;
    int rc = 0;
    o->all_good = 1;
    for (int i = 0; i < n && i < VF_SRV_MAX_FRAMES; i++) {
        vf_frame f = {frames[i].width, frames[i].height, frames[i].stride, (int)frames[i].format, frames[i].data, ts[i]};
        if (vf_session_push_frame(s, &f, &o->st[i])) { rc = -1; break; }
        o->n++;
        if (!o->st[i].good) o->all_good = 0;
        o->complete = o->st[i].complete;
    }
    vf_session_result res;
    if (!rc && o->complete && vf_session_finish(s, &res) == VF_OK) {
        o->finished = 1;
        o->liveness_ok = res.liveness_status == VF_OK;
        o->live_score = res.live_score;
        o->n_chosen = res.n_chosen;
        for (int i = 0; i < res.n_chosen; i++) o->chosen[i] = res.chosen[i];   /* push index == position */
        o->n_live = o->liveness_ok ? (cfg->liveness_frames < res.n_chosen ? cfg->liveness_frames : res.n_chosen) : 0;
        for (int i = 0; i < o->n_live; i++) o->live_scores[i] = res.live_scores[i];
        if (res.embedding_status == VF_OK && res.embedding && res.embedding_dim <= VF_SRV_EMB_MAX) {
            o->emb_dim = res.embedding_dim;
            memcpy(o->emb, res.embedding, sizeof(float) * (size_t)res.embedding_dim);
        }
    }
    if (rc) vf_session_free(s); else o->session = s;
    o->ms = vf_srv_mono_ms() - t0;
    return rc;
}

void vf_srv_rerun_release(vf_srv_rerun *rr) {
    vf_session_free(rr->session);
    rr->session = NULL;
}

static void add_reason(vf_srv_tamper_result *o, const char *r) {
    for (int i = 0; i < o->n; i++) if (!strcmp(o->reasons[i], r)) return;
    if (o->n < 8) o->reasons[o->n++] = r;
}

static int get_num(const cJSON *o, const char *k, double *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(x)) return 0;
    *v = x->valuedouble;
    return 1;
}

static void mismatch(vf_srv_tamper_result *o, const char *reason, const char *what, int frame, double client, double server) {
    add_reason(o, reason);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(o->detail, "disagreements");
    if (!arr) arr = cJSON_AddArrayToObject(o->detail, "disagreements");
    if (cJSON_GetArraySize(arr) >= 32) return;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "field", what);
    if (frame >= 0) cJSON_AddNumberToObject(d, "frame", frame);
    cJSON_AddNumberToObject(d, "client", client);
    cJSON_AddNumberToObject(d, "server", server);
    cJSON_AddItemToArray(arr, d);
}

void vf_srv_tamper_compare(vf_srv_worker *w, const vf_srv_config *c, const vf_session_config *scfg,
                           const vf_image_buffer *frames, const int *cidx, const double *ts, const cJSON *const *status, int n,
                           const cJSON *result, const vf_srv_rerun *rr, vf_srv_tamper_result *o) {
    memset(o, 0, sizeof *o);
    o->detail = cJSON_CreateObject();
    o->embedding_cos = NAN;
    o->server_live_on_client_frames = NAN;
    o->client_live = NAN;
    /* 1. the claims must be self-consistent: the streak of good frames, indices as sent */
    for (int i = 0; i < n; i++) {
        double idx, good = 0;
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(status[i], "good");
        good = cJSON_IsTrue(g);
        /* compared as doubles: a claimed index is any finite number until checked (never cast) */
        if (!get_num(status[i], "index", &idx) || idx != (double)cidx[i]) mismatch(o, "tamper.claims", "status.index", i, get_num(status[i], "index", &idx) ? idx : -1, cidx[i]);
        if (!good) mismatch(o, "tamper.claims", "status.good", i, 0, 1);
        if (i > 0 && cidx[i] <= cidx[i - 1]) mismatch(o, "tamper.claims", "frame.index order", i, cidx[i], (double)cidx[i - 1] + 1);
        if (i > 0 && !(ts[i] > ts[i - 1])) mismatch(o, "tamper.claims", "frame.timestamp order", i, ts[i], ts[i - 1]);
    }
    /* 2. per frame, every quality metric within its tolerance (only where the server saw a face:
     * a frame the server finds faceless is a quality problem of its own, see below) */
    for (int i = 0; i < n && i < rr->n; i++) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(status[i], "quality");
        double fc;
        if (!cJSON_IsObject(q) || !get_num(q, "face_count", &fc)) { mismatch(o, "tamper.claims", "status.quality", i, 0, 0); continue; }
        const vf_quality *sq = &rr->st[i].quality;
        if ((fc >= 1) != (sq->face_count >= 1)) { mismatch(o, "tamper.quality", "face_count", i, fc, sq->face_count); continue; }
        if (sq->face_count < 1) continue;
        for (int m = 0; m < VF_SRV_QMETRICS; m++) {
            if (i == 0 && !strcmp(vf_srv_qmetrics[m].name, "motion")) continue; /* the client's previous frame was not sent */
            double cv;
            float sv = *(const float *)((const char *)sq + vf_srv_qmetrics[m].offset);
            if (!get_num(q, vf_srv_qmetrics[m].name, &cv)) { mismatch(o, "tamper.claims", vf_srv_qmetrics[m].name, i, NAN, sv); continue; }
            double tol = c->tamper.q_abs[m] + c->tamper.q_rel[m] * fabs(sv);
            if (fabs(cv - sv) > tol) mismatch(o, "tamper.quality", vf_srv_qmetrics[m].name, i, cv, sv);
        }
    }
    if (!rr->finished) return;   /* incomplete on the server: a quality retry, nothing more to compare */

    /* 3. the client's chosen frames, as positions in the package */
    const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(result, "chosen");
    int cpos[VF_SRV_MAX_FRAMES], nc = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, chosen) {
        int p = -1;
        for (int i = 0; cJSON_IsNumber(x) && i < n; i++) if (cidx[i] == x->valueint) p = i;
        if (p < 0 || nc >= VF_SRV_MAX_FRAMES) { mismatch(o, "tamper.claims", "result.chosen", -1, cJSON_IsNumber(x) ? x->valuedouble : -1, -1); nc = 0; break; }
        cpos[nc++] = p;
    }
    if (nc == 0 || nc != rr->n_chosen) { add_reason(o, "tamper.claims"); return; }

    /* 4. liveness: the server's PAD on the client's chosen frames vs the client's median */
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(result, "liveness");
    double cs = NAN;
    const cJSON *outc = cJSON_GetObjectItemCaseSensitive(lv, "outcome");
    if (rr->liveness_ok) {
        if (!get_num(lv, "score", &cs) || !(cs >= 0 && cs <= 1) || !cJSON_IsString(outc)) { mismatch(o, "tamper.claims", "result.liveness", -1, NAN, rr->live_score); return; }
        o->client_live = (float)cs;
        int nl = rr->n_live, same = 1;
        for (int i = 0; i < nl; i++) same &= cpos[i] == rr->chosen[i];
        float sv = rr->live_score;
        if (!same) {
            /* the client's frames, scored by the same session (same crops, cues and fusion) */
            float m;
            if (nl > 0 && vf_session_liveness_of(rr->session, cpos, nl, &m) == VF_OK) sv = m;
        }
        o->server_live_on_client_frames = sv;
        if (!(fabs(cs - sv) <= c->tamper.liveness)) mismatch(o, "tamper.liveness", "liveness.score", -1, cs, sv);
        if (!strcmp(outc->valuestring, "pass") && rr->live_score < scfg->live_fail) mismatch(o, "tamper.liveness", "liveness.outcome", -1, 1, 3);
    }

    /* 5. embedding: the server's embedding of the client's best frame vs the client's vector */
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(result, "embedding");
    const cJSON *vec = cJSON_GetObjectItemCaseSensitive(em, "vector");
    if (rr->emb_dim > 0) {
        int dim = cJSON_GetArraySize(vec);
        if (dim != rr->emb_dim) { mismatch(o, "tamper.embedding", "embedding.dim", -1, dim, rr->emb_dim); return; }
        float *semb = o->scratch;
        const float *ref = rr->emb;
        if (cpos[0] != rr->chosen[0]) {
            int d2 = 0;
            if (vf_session_embedding_of(rr->session, cpos[0], semb, VF_SRV_EMB_MAX, &d2) == VF_OK && d2 == dim) ref = semb;
        }
        double dot = 0, nn = 0;
        int i = 0;
        cJSON_ArrayForEach(x, vec) {
            /* a unit vector's elements: anything else is a false claim, not a number to square */
            if (!cJSON_IsNumber(x) || !(fabs(x->valuedouble) <= 1.0 + 1e-3)) { mismatch(o, "tamper.claims", "embedding.vector", i, NAN, 1); return; }
            double v = x->valuedouble;
            dot += v * ref[i];
            nn += v * v;
            i++;
        }
        double cosv = nn > 0 ? dot / sqrt(nn) : 0;   /* the server's vector is unit length */
        o->embedding_cos = (float)cosv;
        if (!(cosv >= c->tamper.embedding)) mismatch(o, "tamper.embedding", "embedding.cosine", -1, cosv, c->tamper.embedding);
    }
}
