/* photo.c - the session photo (GET /v1/sessions/{id}/photo): the server's best frame as an aligned
 * portrait (eyes level, the face centred at a fixed scale, like an ID photo) encoded as JPEG, and
 * a photo_quality_score in 0..1 from that frame's quality metrics. */
#include "photo.h"
#include "../image/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif
#pragma GCC diagnostic pop

static float clamp01(float x) { return x < 0 ? 0 : x > 1 ? 1 : isfinite(x) ? x : 0; }

/* Each factor is 1 for an ideal value and 0.5 at the session's own acceptance threshold (a frame
 * that just passed the capture checks), falling to 0 past it; the score is their geometric mean,
 * so one bad factor pulls it down more than an average would. */
float vf_srv_photo_quality(const vf_quality *q, const vf_quality_config *c, float face_px) {
    float f[7];
    float pose = fmaxf(fabsf(q->yaw) / c->max_yaw, fmaxf(fabsf(q->pitch) / c->max_pitch, fabsf(q->roll) / c->max_roll));
    f[0] = clamp01(1 - 0.5f * pose);
    f[1] = q->sharpness > 0 && c->min_sharpness > 0 ? clamp01(1 - 0.5f * c->min_sharpness / q->sharpness) : q->sharpness > 0 ? 1 : 0;
    float mid = (c->min_brightness + c->max_brightness) / 2, half = (c->max_brightness - c->min_brightness) / 2;
    f[2] = half > 0 ? clamp01(1 - 0.5f * fabsf(q->brightness - mid) / half) : 1;
    f[3] = c->min_eye_open > 0 ? clamp01(0.5f * q->eye_open / c->min_eye_open) : 1;
    f[4] = c->max_light_asymmetry > 0 ? clamp01(1 - 0.5f * q->light_asymmetry / c->max_light_asymmetry) : 1;
    f[5] = c->max_glare > 0 ? clamp01(1 - 0.5f * q->glare / c->max_glare) : 1;
    f[6] = clamp01(face_px / 200);   /* the face's width in source pixels: below 200 the portrait is upscaled */
    double lsum = 0;
    for (int i = 0; i < 7; i++) {
        if (f[i] <= 0) return 0;
        lsum += log(f[i]);
    }
    return (float)exp(lsum / 7);
}

typedef struct jbuf { uint8_t *p; size_t n, cap; int oom; } jbuf;

static void jput(void *ctx, void *data, int size) {
    jbuf *b = ctx;
    if (b->oom || size <= 0) return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = (b->n + (size_t)size) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

int vf_srv_photo_make(vf_context *ctx, const vf_image_buffer *img, const vf_frame_status *st, const vf_quality_config *qc,
                      vf_srv_photo *out) {
    memset(out, 0, sizeof *out);
    if (st->face_box[2] <= st->face_box[0]) return -1;   /* no face in that frame */
    /* the ArcFace template (eyes, nose, mouth corners in 112x112) placed in the portrait: the
     * template's face 0.5 of the height, eyes at 42% from the top, centred */
    const int W = VF_SRV_PORTRAIT_W, H = VF_SRV_PORTRAIT_H;
    float k = 0.5f * H / 112.0f, ox = (W - 112 * k) / 2, eye_y = 0.5f * (vf_arcface_template_112[0][1] + vf_arcface_template_112[1][1]);
    float oy = 0.42f * H - eye_y * k, dst[10];
    for (int i = 0; i < 5; i++) {
        dst[2 * i] = vf_arcface_template_112[i][0] * k + ox;
        dst[2 * i + 1] = vf_arcface_template_112[i][1] * k + oy;
    }
    float m[6], warp[6];
    if (vf_similarity_estimate(ctx, &st->landmarks5[0][0], dst, 5, m, warp) != VF_OK) return -1;
    float *px = malloc((size_t)W * H * 3 * sizeof *px);
    uint8_t *rgb = malloc((size_t)W * H * 3);
    int rc = -1;
    vf_sample_options so = vf_sample_default_options();
    so.border = VF_BORDER_REPLICATE;
    vf_image src = {img->width, img->height, img->stride, img->format, img->data};
    if (px && rgb && vf_image_warp_to_tensor(ctx, &src, warp, &so, px, W, H) == VF_OK) {
        for (size_t i = 0; i < (size_t)W * H * 3; i++) rgb[i] = (uint8_t)(px[i] < 0 ? 0 : px[i] > 255 ? 255 : px[i] + 0.5f);
        jbuf b = {0};
        if (stbi_write_jpg_to_func(jput, &b, W, H, 3, rgb, 90) && !b.oom) {
            out->jpeg = b.p;
            out->len = b.n;
            out->width = W;
            out->height = H;
            out->quality_score = vf_srv_photo_quality(&st->quality, qc, st->face_box[2] - st->face_box[0]);
            rc = 0;
        } else {
            free(b.p);
        }
    }
    free(px);
    free(rgb);
    return rc;
}
