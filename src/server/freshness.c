/* freshness.c - see freshness.h. The timestamp rules, then the check of one package, which runs
 * the frame measures (frameprint.c) and searches the store's frame index. Memory: a luma and a high-pass plane per frame (3 bytes per pixel, a 720p
 * frame 2.8 MB), freed before returning; packages hold at most VF_SRV_FRESH_MAX frames. */
#include "freshness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- timestamps ----------------------------------------------------------------------------- */

int vf_srv_timestamps_check(const double *ts, int n, double created_at, double elapsed_ms, double fps,
                            const vf_srv_freshness_config *c, char *why, size_t ws, int *frame_out) {
    *frame_out = -1;
    why[0] = 0;
    /* the capture happened after the nonce was issued and before the package was made: in the
     * client's clock, [created_at - elapsed, created_at] (client and server clocks may be offset,
     * durations agree) */
    double lo = created_at - (elapsed_ms > 0 ? elapsed_ms : 0) - c->slack_ms, hi = created_at + c->slack_ms;
    for (int i = 0; i < n; i++) {
        *frame_out = i;
        if (!isfinite(ts[i])) { snprintf(why, ws, "frame %d: timestamp is not a finite number", i); return 1; }
        if (ts[i] > hi) {
            snprintf(why, ws, "frame %d: timestamp %.17g is %.6g ms after created_at %.17g", i, ts[i], ts[i] - created_at, created_at);
            return 1;
        }
        if (ts[i] < lo) {
            snprintf(why, ws, "frame %d: timestamp %.17g is %.6g ms before created_at %.17g, but the nonce was issued %.0f ms "
                     "before the server received the package", i, ts[i], created_at - ts[i], created_at, elapsed_ms);
            return 1;
        }
    }
    /* Each pair at least a 120 fps camera's spacing; against the claimed frame rate only the mean
     * spacing (half a period): a loaded browser stamps frames when it presents them, and two of a
     * 15 fps camera's came 31.9 ms apart in an honest capture, the span stays the camera's. */
    double min = c->min_interval_ms;
    for (int i = 1; i < n; i++) {
        double d = ts[i] - ts[i - 1];
        *frame_out = i;
        if (!(d > 0)) { snprintf(why, ws, "frame %d: timestamp not after frame %d's (%.6g ms)", i, i - 1, d); return 1; }
        if (d < min) { snprintf(why, ws, "frames %d-%d: %.6g ms apart, under the %.4g ms a camera needs", i - 1, i, d, min); return 1; }
        if (d > c->max_interval_ms) {
            snprintf(why, ws, "frames %d-%d: %.6g ms apart, over the %.4g ms between consecutive frames", i - 1, i, d, c->max_interval_ms);
            return 1;
        }
    }
    double mean = n > 1 ? (ts[n - 1] - ts[0]) / (n - 1) : 0;
    if (n > 1 && fps > 0 && isfinite(fps) && mean < 500.0 / fps) {
        *frame_out = n - 1;
        snprintf(why, ws, "frames 0-%d: %.6g ms apart, under the %.4g ms a camera needs on average at %.4g fps", n - 1, mean,
                 500.0 / fps, fps);
        return 1;
    }
    *frame_out = -1;
    return 0;
}

/* ---- the check of one package ----------------------------------------------------------------- */

static void add_reason(vf_srv_freshness *o, const char *r) {
    for (int i = 0; i < o->n_reasons; i++) if (!strcmp(o->reasons[i], r)) return;
    if (o->n_reasons < 3) o->reasons[o->n_reasons++] = r;
}

static void num(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, round(v * 1000) / 1000); else cJSON_AddNullToObject(o, k);
}

static cJSON *pair_json(int a, int b, const vf_srv_frame_diff *d) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "a", a);
    cJSON_AddNumberToObject(p, "b", b);
    if (!d) { cJSON_AddBoolToObject(p, "identical", 1); return p; }
    num(p, "change", d->change);
    num(p, "residual", d->residual);
    cJSON *sh = cJSON_AddArrayToObject(p, "shift");
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(d->dx));
    cJSON_AddItemToArray(sh, cJSON_CreateNumber(d->dy));
    return p;
}

/* 1. Within the package: every pair, byte-identical or within the noise floor. */
static int check_pairs(const vf_srv_freshness_config *c, const vf_srv_luma *l, vf_srv_freshness *o) {
    cJSON *j = cJSON_AddObjectToObject(o->detail, "pairs"), *dups = cJSON_AddArrayToObject(j, "duplicates");
    vf_srv_frame_diff closest = {INFINITY, INFINITY, 0, 0};
    int ca = -1, cb = -1;
    for (int a = 0; a < o->n; a++)
        for (int b = a + 1; b < o->n; b++) {
            if (!strcmp(o->prints[a].sha256, o->prints[b].sha256)) {
                add_reason(o, "freshness.duplicate_frame");
                if (cJSON_GetArraySize(dups) < 16) cJSON_AddItemToArray(dups, pair_json(a, b, NULL));
                continue;
            }
            vf_srv_frame_diff d;
            vf_srv_frame_diff_measure(&l[a], &l[b], &d);
            if (isnan(d.change)) return -1;
            if (d.change < closest.change) { closest = d; ca = a; cb = b; }
            if (d.change < c->dup_change && d.residual < c->dup_residual) {
                add_reason(o, "freshness.duplicate_frame");
                if (cJSON_GetArraySize(dups) < 16) cJSON_AddItemToArray(dups, pair_json(a, b, &d));
            }
        }
    /* the most similar pair: how far an honest package is from the threshold */
    if (ca >= 0) cJSON_AddItemToObject(j, "closest", pair_json(ca, cb, &closest));
    return 0;
}

/* 2. Across packages: the store's index of every decided package's frames. */
static int check_index(vf_srv *s, vf_srv_freshness *o) {
    vf_srv_index_hit hits[VF_SRV_FRESH_MAX];
    float nearest[VF_SRV_FRESH_MAX];
    int cand = 0;
    int nh = vf_srv_store_index_find(s->store, o->prints, o->n, 0, &s->cfg.freshness, hits, nearest, &cand, &o->index_seen);
    if (nh < 0) return -1;
    cJSON *j = cJSON_AddObjectToObject(o->detail, "index"), *near = cJSON_AddArrayToObject(j, "nearest");
    cJSON_AddNumberToObject(j, "candidates", cand);
    for (int i = 0; i < o->n; i++) {
        if (isfinite(nearest[i])) cJSON_AddItemToArray(near, cJSON_CreateNumber(round(nearest[i] * 1000) / 1000));
        else cJSON_AddItemToArray(near, cJSON_CreateNull());
    }
    cJSON *rep = cJSON_AddArrayToObject(j, "replayed");
    for (int i = 0; i < nh; i++) {
        add_reason(o, "freshness.replayed_frame");
        cJSON *h = cJSON_CreateObject();
        cJSON_AddNumberToObject(h, "frame", hits[i].frame);
        cJSON_AddStringToObject(h, "match", hits[i].exact ? "exact" : "similar");
        if (!hits[i].exact) { cJSON_AddNumberToObject(h, "hash_distance", hits[i].hamming); num(h, "distance", hits[i].distance); }
        cJSON_AddStringToObject(h, "session_id", hits[i].session_id);
        cJSON_AddNumberToObject(h, "attempt", hits[i].attempt);
        cJSON_AddNumberToObject(h, "at", (double)hits[i].at);
        cJSON_AddItemToArray(rep, h);
    }
    return 0;
}

/* The camera's claimed frame rate (signals.camera.settings.frameRate), 0 when absent. */
static double claimed_fps(const cJSON *signals) {
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(signals, "camera");
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cam, "settings"), "frameRate");
    return cJSON_IsNumber(fr) && fr->valuedouble > 0 && fr->valuedouble <= 1000 ? fr->valuedouble : 0;
}

/* 3. Timestamps. */
static void check_timestamps(const vf_srv_freshness_config *c, const vf_srv_fresh_input *in, vf_srv_freshness *o) {
    cJSON *j = cJSON_AddObjectToObject(o->detail, "timestamps"), *iv = cJSON_AddArrayToObject(j, "intervals_ms");
    for (int i = 1; i < in->n; i++) {
        double d = in->ts[i] - in->ts[i - 1];
        cJSON_AddItemToArray(iv, isfinite(d) && fabs(d) < 1e12 ? cJSON_CreateNumber(round(d * 1000) / 1000) : cJSON_CreateNull());
    }
    double elapsed = (double)(in->now - in->nonce_issued_at), fps = claimed_fps(in->signals);
    num(j, "capture_ms", in->n > 0 ? in->created_at - in->ts[0] : NAN);
    cJSON_AddNumberToObject(j, "nonce_age_ms", elapsed);
    char why[256];
    int frame;
    if (vf_srv_timestamps_check(in->ts, in->n, in->created_at, elapsed, fps, c, why, sizeof why, &frame)) {
        add_reason(o, "freshness.timestamps");
        cJSON_AddStringToObject(j, "problem", why);
        cJSON_AddNumberToObject(j, "frame", frame);
    }
}

int vf_srv_freshness_check(vf_srv *s, const vf_srv_fresh_input *in, vf_srv_freshness *o) {
    memset(o, 0, sizeof *o);
    const vf_srv_freshness_config *c = &s->cfg.freshness;
    vf_srv_luma l[VF_SRV_FRESH_MAX];
    memset(l, 0, sizeof l);
    int rc = -1;
    o->detail = cJSON_CreateObject();
    o->n = in->n < VF_SRV_FRESH_MAX ? in->n : VF_SRV_FRESH_MAX;
    for (int i = 0; i < o->n; i++) {
        if (vf_srv_luma_make(&in->frames[i], &l[i])) goto out;
        vf_srv_frame_print_make(&l[i], in->bytes[i], in->sizes[i], &o->prints[i]);
    }
    if (check_pairs(c, l, o)) goto out;
    for (int i = 0; i < o->n; i++) vf_srv_luma_free(&l[i]);   /* the index needs the prints only */
    if (check_index(s, o)) goto out;
    check_timestamps(c, in, o);
    cJSON *r = cJSON_CreateArray();
    for (int i = 0; i < o->n_reasons; i++) cJSON_AddItemToArray(r, cJSON_CreateString(o->reasons[i]));
    cJSON_AddItemToObject(o->detail, "reasons", r);
    rc = 0;
out:
    for (int i = 0; i < o->n; i++) vf_srv_luma_free(&l[i]);
    if (rc) vf_srv_freshness_clear(o);
    return rc;
}

void vf_srv_freshness_clear(vf_srv_freshness *f) {
    cJSON_Delete(f->detail);
    memset(f, 0, sizeof *f);
}
