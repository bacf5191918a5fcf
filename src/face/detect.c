/* detect.c - BlazeFace (MediaPipe short-range, front camera) decoding.
 *
 * Model outputs (by shape): scores [1,512,1] and [1,384,1] (logits), regressors [1,512,16] and
 * [1,384,16]. Anchors as in MediaPipe's SSD setup and Human's generateAnchors: 512 on the 16x16
 * grid of stride 8 (2 per cell), then 384 on the 8x8 grid of stride 16 (6 per cell), centred
 * in their cells, size 1. Regressor k of an anchor (ax, ay), in 128-pixel input units:
 * 0,1 box centre offset, 2,3 box width and height, 4+2i, 5+2i keypoint i offset. */
#include "face.h"

#include <math.h>
#include <string.h>

#define IN 128
#define N_ANCHORS 896

vf_detect_options vf_detect_default_options(void) {
    vf_detect_options o = {0.5f, 0.3f, VF_DETECT_MAX_FACES};
    return o;
}

typedef struct { const float *scores, *regs; int n, stride, per_cell; } head;

/* Find the four outputs by shape, so the order of the model's outputs does not matter. */
static vf_status find_heads(vf_context *ctx, vf_model *m, head h[2]) {
    memset(h, 0, 2 * sizeof *h);
    int n = vf_model_output_count(m);
    for (int i = 0; i < n; i++) {
        vf_tensor_info t;
        vf_model_output(m, i, &t);
        if (t.rank != 3 || t.dims[0] != 1) continue;
        int k = t.dims[1] == 512 ? 0 : t.dims[1] == 384 ? 1 : -1;
        if (k < 0) continue;
        if (t.dims[2] == 1) h[k].scores = t.data;
        else if (t.dims[2] == 16) h[k].regs = t.data;
    }
    h[0].n = 512; h[0].stride = 8; h[0].per_cell = 2;
    h[1].n = 384; h[1].stride = 16; h[1].per_cell = 6;
    if (!h[0].scores || !h[0].regs || !h[1].scores || !h[1].regs)
        return vf__fail(ctx, VF_E_MODEL, "detector: outputs [1,512,1], [1,384,1], [1,512,16], [1,384,16] expected");
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    if (in.rank != 4 || in.dims[1] != IN || in.dims[2] != IN || in.dims[3] != 3)
        return vf__fail(ctx, VF_E_MODEL, "detector: input [1,128,128,3] expected");
    return VF_OK;
}

typedef struct { int16_t head, anchor; float score; } cand;

/* Box and keypoints of a candidate, in 128-pixel model input units. */
static void decode_box(const head h[2], const cand *c, vf_face_box *b) {
    const head *hd = &h[c->head];
    int grid = IN / hd->stride, cell = c->anchor / hd->per_cell;
    float ax = hd->stride * (cell % grid + 0.5f), ay = hd->stride * (cell / grid + 0.5f);
    const float *r = hd->regs + (size_t)c->anchor * 16;
    float cx = ax + r[0], cy = ay + r[1], w = r[2], hh = r[3];
    b->score = c->score;
    b->x0 = cx - w * 0.5f; b->x1 = cx + w * 0.5f;
    b->y0 = cy - hh * 0.5f; b->y1 = cy + hh * 0.5f;
    for (int i = 0; i < VF_DETECT_KEYPOINTS; i++) { b->kp[i][0] = ax + r[4 + 2 * i]; b->kp[i][1] = ay + r[5 + 2 * i]; }
}

static float iou(const vf_face_box *a, const vf_face_box *b) {
    float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0), iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (ix <= 0 || iy <= 0) return 0;
    float inter = ix * iy, ua = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
    return ua > 0 ? inter / ua : 0;
}

vf_status vf_detect_faces(vf_context *ctx, vf_model *m, const vf_image *img, const vf_detect_options *opt,
                          vf_face_box *faces, int *n_out) {
    if (!m || !img || !faces || !n_out) return vf__fail(ctx, VF_E_INVALID_ARG, "detect: NULL argument");
    *n_out = 0;
    vf_detect_options o = opt ? *opt : vf_detect_default_options();
    if (o.max_faces < 1 || o.max_faces > VF_DETECT_MAX_FACES) o.max_faces = VF_DETECT_MAX_FACES;
    vf_status s = vf_image_check(ctx, img);
    head h[2];
    if (s || (s = find_heads(ctx, m, h))) return s;

    /* Letterbox: the longer side fills the input, centred; output px -> image px. */
    float scale = (float)(img->width > img->height ? img->width : img->height) / IN;
    float off_x = (img->width - scale * IN) * 0.5f, off_y = (img->height - scale * IN) * 0.5f;
    /* warp maps output pixel centres (integers) to source centres: x_src + 0.5 = scale*(x+0.5) + off */
    float warp[6] = {scale, 0, off_x + 0.5f * scale - 0.5f, 0, scale, off_y + 0.5f * scale - 0.5f};
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    vf_sample_options so = vf_sample_options_range(-1.0f, 1.0f, VF_CHANNELS_RGB);
    if ((s = vf_image_warp_to_tensor(ctx, img, warp, &so, in.data, IN, IN))) return s;
    if ((s = vf_model_invoke(m))) return s;

    /* Candidates above the threshold (logit test first: sigmoid is monotonic). Only their anchor
     * and score are kept (12 bytes each: the stack stays small, WASI has 64 KiB); boxes are
     * decoded on demand. */
    cand c[N_ANCHORS];
    int nc = 0;
    float min_logit = logf(o.min_score / (1.0f - o.min_score));
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < h[k].n; a++) {
            float logit = h[k].scores[a];
            if (!(logit >= min_logit)) continue; /* also drops NaN */
            logit = fmaxf(-100.0f, fminf(100.0f, logit));
            c[nc].head = (int16_t)k;
            c[nc].anchor = (int16_t)a;
            c[nc].score = 1.0f / (1.0f + expf(-logit));
            nc++;
        }
    /* Weighted NMS (MediaPipe): the best remaining candidate absorbs every candidate overlapping
     * it by more than the threshold; coordinates are the score-weighted mean of the group. */
    int n = 0;
    while (n < o.max_faces) {
        int best = -1;
        for (int i = 0; i < nc; i++)
            if (c[i].anchor >= 0 && (best < 0 || c[i].score > c[best].score)) best = i;
        if (best < 0) break;
        vf_face_box top, acc, b;
        decode_box(h, &c[best], &top);
        memset(&acc, 0, sizeof acc);
        float wsum = 0;
        for (int i = 0; i < nc; i++) {
            if (c[i].anchor < 0) continue;
            decode_box(h, &c[i], &b);
            if (iou(&top, &b) <= o.iou_threshold) continue; /* best itself: IoU 1 */
            float w = c[i].score;
            acc.x0 += w * b.x0; acc.y0 += w * b.y0; acc.x1 += w * b.x1; acc.y1 += w * b.y1;
            for (int p = 0; p < VF_DETECT_KEYPOINTS; p++) { acc.kp[p][0] += w * b.kp[p][0]; acc.kp[p][1] += w * b.kp[p][1]; }
            wsum += w;
            c[i].anchor = -1; /* used */
        }
        vf_face_box *f = &faces[n++];
        float inv = 1.0f / wsum;
        /* model pixels -> image pixels */
        f->x0 = acc.x0 * inv * scale + off_x; f->x1 = acc.x1 * inv * scale + off_x;
        f->y0 = acc.y0 * inv * scale + off_y; f->y1 = acc.y1 * inv * scale + off_y;
        for (int p = 0; p < VF_DETECT_KEYPOINTS; p++) {
            f->kp[p][0] = acc.kp[p][0] * inv * scale + off_x;
            f->kp[p][1] = acc.kp[p][1] * inv * scale + off_y;
        }
        f->score = top.score;
    }
    *n_out = n;
    return VF_OK;
}
