/* session.c - one capture: frames in, quality per frame, and after K consecutive good frames the
 * final analysis (passive liveness on the best frames, embedding of the best one).
 *
 * Memory is planned at creation: the good frames of the current streak are copied into
 * preallocated slots (max_width x max_height, one per frame the capture needs), so a push
 * allocates nothing. A bad frame ends the streak and drops the kept frames: the frames analysed
 * at the end are consecutive, which makes a swap of faces mid-capture visible as a broken streak. */
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

vf_session_config vf_session_default_config(void) {
    vf_session_config c;
    memset(&c, 0, sizeof c);
    c.quality = vf_quality_default_config();
    c.good_frames = 5;
    c.liveness_frames = 3;
    c.live_pass = VF_LIVE_PASS_DEFAULT;
    c.live_fail = VF_LIVE_FAIL_DEFAULT;
    c.max_width = 1280;
    c.max_height = 720;
    return c;
}

vf_status vf_session_create(vf_engine *e, const vf_session_config *cfg, vf_session **out) {
    if (!e || !out) return VF_E_INVALID_ARG;
    *out = NULL;
    vf_session_config c = cfg ? *cfg : vf_session_default_config();
    if (c.good_frames < 1 || c.good_frames > VF_SESSION_MAX_CHOSEN || c.liveness_frames < 1 ||
        c.liveness_frames > c.good_frames || !(c.live_fail <= c.live_pass) || c.max_width < 16 || c.max_height < 16 ||
        c.max_width > 8192 || c.max_height > 8192)
        return vf__fail(e->ctx, VF_E_INVALID_ARG, "session: invalid config (good_frames 1..%d, liveness_frames <= good_frames, "
                        "live_fail <= live_pass, frame size 16..8192)", VF_SESSION_MAX_CHOSEN);
    vf_session *s = calloc(1, sizeof *s);
    if (!s) return vf__fail(e->ctx, VF_E_NO_MEMORY, "session: out of memory");
    s->e = e;
    s->cfg = c;
    s->frame_bytes = vf__align_up((size_t)c.max_width * (size_t)c.max_height * 4, VF_ALIGN);
    s->frame_block = vf__alloc_aligned(s->frame_bytes * (size_t)c.good_frames);
    s->pad_scratch = vf__alloc_aligned(vf_pad_scratch_size());
    if (!s->frame_block || !s->pad_scratch) {
        vf__free_aligned(s->frame_block);
        vf__free_aligned(s->pad_scratch);
        free(s);
        return vf__fail(e->ctx, VF_E_NO_MEMORY, "session: cannot reserve %d frames of %dx%d", c.good_frames, c.max_width, c.max_height);
    }
    *out = s;
    return VF_OK;
}

void vf_session_free(vf_session *s) {
    if (!s) return;
    vf__free_aligned(s->frame_block);
    vf__free_aligned(s->pad_scratch);
    free(s);
}

void vf_session_reset(vf_session *s) {
    if (!s) return;
    memset(&s->qstate, 0, sizeof s->qstate);
    s->frames = s->streak = s->complete = s->finished = 0;
    s->n_kept = s->next_slot = 0;
}

/* Higher is better: sharp, frontal, eyes open. */
static float frame_rank(const vf_quality *q) {
    return logf(1.0f + fmaxf(q->sharpness, 0.0f)) - 0.03f * (fabsf(q->yaw) + fabsf(q->pitch) + fabsf(q->roll)) +
           2.0f * fminf(q->eye_open, 0.4f);
}

static void keep_frame(vf_session *s, const vf_image *img, double timestamp_ms, const vf_frame_status *st,
                       const vf_face_box *box, const vf_face_landmarks *lm) {
    int slot = s->next_slot;
    s->next_slot = (s->next_slot + 1) % s->cfg.good_frames;
    if (s->n_kept < s->cfg.good_frames) s->n_kept++;
    vf_kept_frame *k = &s->kept[slot];
    k->pixels = s->frame_block + (size_t)slot * s->frame_bytes;
    k->width = img->width;
    k->height = img->height;
    k->format = img->format;
    size_t row = (size_t)img->width * (size_t)img->format;
    for (int32_t y = 0; y < img->height; y++) memcpy(k->pixels + (size_t)y * row, img->data + (size_t)y * img->stride, row);
    k->index = st->index;
    k->timestamp_ms = timestamp_ms;
    k->box = *box;
    k->lm = *lm;
    k->quality = st->quality;
    k->rank = frame_rank(&st->quality);
}

vf_status vf_session_push_frame(vf_session *s, const vf_frame *f, vf_frame_status *st) {
    if (!s || !f || !st) return VF_E_INVALID_ARG;
    vf_context *ctx = s->e->ctx;
    double t0 = now_ms();
    memset(st, 0, sizeof *st);
    if (f->channels != 3 && f->channels != 4) return vf__fail(ctx, VF_E_IMAGE, "frame: %d channels (3 or 4 expected)", f->channels);
    if (f->width < 1 || f->height < 1 || f->width > s->cfg.max_width || f->height > s->cfg.max_height)
        return vf__fail(ctx, VF_E_IMAGE, "frame: %dx%d outside 1x1..%dx%d (session max_width/max_height)", f->width, f->height,
                        s->cfg.max_width, s->cfg.max_height);
    vf_image img = {f->width, f->height, f->stride, f->channels == 4 ? VF_PIXEL_RGBA8 : VF_PIXEL_RGB8, f->pixels};
    vf_status r = vf_image_check(ctx, &img);
    if (r) return r;
    if (s->finished) return vf__fail(ctx, VF_E_INVALID_ARG, "session: capture finished; vf_session_reset to start again");

    vf_face_box faces[VF_DETECT_MAX_FACES];
    int nf = 0;
    vf_face_landmarks lm;
    if ((r = vf_detect_faces(ctx, s->e->det, &img, NULL, faces, &nf))) return r;
    if (nf > 0 && (r = vf_face_landmarks_run(ctx, s->e->mesh, &img, &faces[0], &lm))) return r;
    if ((r = vf_quality_assess(ctx, &s->cfg.quality, &img, faces, nf, nf > 0 ? &lm : NULL, &s->qstate, &st->quality))) return r;

    st->index = s->frames++;
    st->good = st->quality.guidance == VF_GUIDE_OK;
    if (nf > 0) {
        st->face_box[0] = faces[0].x0; st->face_box[1] = faces[0].y0; st->face_box[2] = faces[0].x1; st->face_box[3] = faces[0].y1;
        memcpy(st->landmarks5, lm.five, sizeof st->landmarks5);
    }
    if (st->good) {
        s->streak++;
        keep_frame(s, &img, f->timestamp_ms, st, &faces[0], &lm);
    } else {
        s->streak = 0;
        s->n_kept = s->next_slot = 0; /* frames analysed at the end are consecutive */
    }
    if (s->streak >= s->cfg.good_frames) s->complete = 1;
    st->good_streak = s->streak;
    st->complete = s->complete;
    st->ms = now_ms() - t0;
    return VF_OK;
}

int vf_session_kept_count(const vf_session *s) { return s ? s->n_kept : 0; }

vf_status vf_session_kept_frame(const vf_session *s, int i, vf_frame *out, int *index_out) {
    if (!s || !out || i < 0 || i >= s->n_kept) return VF_E_INVALID_ARG;
    /* The slots are a ring: once full, the oldest frame is the one written next. */
    int first = s->n_kept == s->cfg.good_frames ? s->next_slot : 0;
    const vf_kept_frame *k = &s->kept[(first + i) % s->cfg.good_frames];
    out->width = k->width;
    out->height = k->height;
    out->channels = (int)k->format;
    out->stride = (size_t)k->width * (size_t)k->format;
    out->pixels = k->pixels;
    out->timestamp_ms = k->timestamp_ms;
    if (index_out) *index_out = k->index;
    return VF_OK;
}

vf_status vf_frame_fingerprint(vf_context *ctx, const vf_frame *f, uint64_t *hash_out) {
    if (!ctx || !f || !hash_out) return VF_E_INVALID_ARG;
    if (f->channels != 3 && f->channels != 4) return vf__fail(ctx, VF_E_IMAGE, "frame: %d channels (3 or 4 expected)", f->channels);
    vf_image img = {f->width, f->height, f->stride, f->channels == 4 ? VF_PIXEL_RGBA8 : VF_PIXEL_RGB8, f->pixels};
    return vf_image_frame_hash(ctx, &img, NULL, hash_out);
}

static int cmp_rank(const void *a, const void *b) {
    const vf_kept_frame *x = *(vf_kept_frame *const *)a, *y = *(vf_kept_frame *const *)b;
    return x->rank > y->rank ? -1 : x->rank < y->rank ? 1 : (x->index < y->index ? -1 : 1);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static float median(float *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_float);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

static const vf_kept_frame *kept_by_index(const vf_session *s, int index) {
    for (int j = 0; j < s->n_kept; j++) if (s->kept[j].index == index) return &s->kept[j];
    return NULL;
}

/* The liveness of one kept frame: the same crop, cues and fusion wherever it runs (browser, server). */
static vf_status live_of(vf_session *s, const vf_kept_frame *k, vf_liveness_detail *d) {
    vf_image img = {k->width, k->height, (size_t)k->width * (size_t)k->format, k->format, k->pixels};
    vf_liveness_score ls;
    vf_status st = vf_liveness_score_face(s->e->ctx, &s->e->pad, &img, &k->lm, s->pad_scratch, &ls);
    if (st) return st;
    d->score = ls.live;
    d->minifasnet = ls.minifasnet;
    d->screen_edge = ls.cues.screen_edge;
    d->moire = ls.cues.moire;
    return VF_OK;
}

vf_status vf_session_liveness_of(vf_session *s, const int *indices, int n, float *median_out) {
    if (!s || !indices || !median_out || n < 1 || n > VF_SESSION_MAX_CHOSEN) return VF_E_INVALID_ARG;
    vf_context *ctx = s->e->ctx;
    if (!vf__engine_has_pad(s->e)) return vf__fail(ctx, VF_E_NO_MODEL, "liveness: PAD weights are not available");
    float v[VF_SESSION_MAX_CHOSEN];
    for (int i = 0; i < n; i++) {
        const vf_kept_frame *k = kept_by_index(s, indices[i]);
        if (!k) return vf__fail(ctx, VF_E_INVALID_ARG, "liveness: frame %d is not a kept frame of this capture", indices[i]);
        vf_liveness_detail d;
        vf_status st = live_of(s, k, &d);
        if (st) return st;
        v[i] = d.score;
    }
    *median_out = median(v, n);
    return VF_OK;
}

vf_status vf_session_embedding_of(vf_session *s, int index, float *out, int max_dim, int *dim_out) {
    if (!s || !out || !dim_out || max_dim < 1) return VF_E_INVALID_ARG;
    vf_context *ctx = s->e->ctx;
    if (!s->e->emb) return vf__fail(ctx, VF_E_NO_MODEL, "embedding: the embedder is not available");
    const vf_kept_frame *k = kept_by_index(s, index);
    if (!k) return vf__fail(ctx, VF_E_INVALID_ARG, "embedding: frame %d is not a kept frame of this capture", index);
    vf_image img = {k->width, k->height, (size_t)k->width * (size_t)k->format, k->format, k->pixels};
    int dim = 0;
    vf_status st = vf_embed_face(ctx, s->e->emb, &img, k->lm.five, s->embedding, &dim);
    if (st) return st;
    if (dim > max_dim) return vf__fail(ctx, VF_E_INVALID_ARG, "embedding: %d values, room for %d", dim, max_dim);
    memcpy(out, s->embedding, sizeof(float) * (size_t)dim);
    *dim_out = dim;
    return VF_OK;
}

vf_status vf_engine_embed_face(vf_engine *e, const vf_frame *f, float *out, int max_dim, int *dim_out, int *faces_out,
                               float box_out[4]) {
    if (!e || !f || !out || !dim_out || max_dim < 1) return VF_E_INVALID_ARG;
    vf_context *ctx = e->ctx;
    *dim_out = 0;
    if (faces_out) *faces_out = 0;
    if (!e->emb) return vf__fail(ctx, VF_E_NO_MODEL, "embedding: the embedder is not available");
    if (f->channels != 3 && f->channels != 4) return vf__fail(ctx, VF_E_IMAGE, "frame: %d channels (3 or 4 expected)", f->channels);
    vf_image img = {f->width, f->height, f->stride, f->channels == 4 ? VF_PIXEL_RGBA8 : VF_PIXEL_RGB8, f->pixels};
    vf_status st = vf_image_check(ctx, &img);
    if (st) return st;
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int nf = 0, pick = -1;
    vf_face_landmarks lm;
    if ((st = vf_detect_faces(ctx, e->det, &img, NULL, faces, &nf))) return st;
    if (faces_out) *faces_out = nf;
    if (nf < 1) return vf__fail(ctx, VF_E_INVALID_ARG, "embedding: no face in the image");
    if ((st = vf_face_pick_still(ctx, e->mesh, &img, faces, nf, &lm, &pick))) return st;
    if (pick < 0) return vf__fail(ctx, VF_E_INVALID_ARG, "embedding: no face in the image (%d detection%s, none confirmed by the face mesh)", nf, nf == 1 ? "" : "s");
    float tmp[VF_EMBED_MAX_DIM];
    int dim = 0;
    if ((st = vf_embed_face(ctx, e->emb, &img, lm.five, tmp, &dim))) return st;
    if (dim > max_dim) return vf__fail(ctx, VF_E_INVALID_ARG, "embedding: %d values, room for %d", dim, max_dim);
    memcpy(out, tmp, sizeof(float) * (size_t)dim);
    *dim_out = dim;
    if (box_out) { box_out[0] = faces[pick].x0; box_out[1] = faces[pick].y0; box_out[2] = faces[pick].x1; box_out[3] = faces[pick].y1; }
    return VF_OK;
}

vf_status vf_session_finish(vf_session *s, vf_session_result *res) {
    if (!s || !res) return VF_E_INVALID_ARG;
    vf_context *ctx = s->e->ctx;
    memset(res, 0, sizeof *res);
    if (!s->complete) return vf__fail(ctx, VF_E_INVALID_ARG, "session: capture not complete (%d of %d good frames)", s->streak, s->cfg.good_frames);
    if (s->finished) return vf__fail(ctx, VF_E_INVALID_ARG, "session: already finished");
    s->finished = 1;
    vf_kept_frame *order[VF_SESSION_MAX_CHOSEN];
    for (int i = 0; i < s->n_kept; i++) order[i] = &s->kept[i];
    qsort(order, (size_t)s->n_kept, sizeof order[0], cmp_rank);
    res->frames = s->frames;
    res->n_chosen = s->n_kept;
    for (int i = 0; i < s->n_kept; i++) res->chosen[i] = order[i]->index;

    /* Passive liveness: median over the best frames, so one lucky frame cannot pass. */
    double t0 = now_ms();
    res->liveness = VF_LIVENESS_NOT_RUN;
    if (!vf__engine_has_pad(s->e)) {
        res->liveness_status = VF_E_NO_MODEL;
    } else {
        int n = s->cfg.liveness_frames < s->n_kept ? s->cfg.liveness_frames : s->n_kept;
        float sorted[VF_SESSION_MAX_CHOSEN];
        for (int i = 0; i < n && !res->liveness_status; i++) {
            res->liveness_status = live_of(s, order[i], &res->live_detail[i]);
            res->live_scores[i] = sorted[i] = res->live_detail[i].score;
        }
        if (!res->liveness_status) {
            res->live_score = median(sorted, n);
            res->liveness = res->live_score >= s->cfg.live_pass ? VF_LIVENESS_PASS
                          : res->live_score < s->cfg.live_fail ? VF_LIVENESS_FAIL : VF_LIVENESS_UNCERTAIN;
        }
    }
    res->liveness_ms = now_ms() - t0;

    t0 = now_ms();
    if (!s->e->emb) {
        res->embedding_status = VF_E_NO_MODEL;
    } else {
        vf_kept_frame *k = order[0];
        vf_image img = {k->width, k->height, (size_t)k->width * (size_t)k->format, k->format, k->pixels};
        res->embedding_status = vf_embed_face(ctx, s->e->emb, &img, k->lm.five, s->embedding, &res->embedding_dim);
        if (!res->embedding_status) res->embedding = s->embedding;
    }
    res->embedding_ms = now_ms() - t0;
    return VF_OK;
}

float vf_match_similarity(const float *a, const float *b, int dim) {
    return (a && b && dim > 0) ? vf_embed_similarity(a, b, dim) : 0.0f;
}

vf_match_band vf_match_band_of(float sim) {
    return sim >= VF_MATCH_STRONG_DEFAULT ? VF_MATCH_STRONG : sim >= VF_MATCH_WEAK_DEFAULT ? VF_MATCH_WEAK : VF_MATCH_NONE;
}
