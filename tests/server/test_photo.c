/* test_photo.c - the session photo's parts: photo_quality_score (1 for an ideal frame, 0.5 where
 * every factor sits at the session's acceptance threshold, 0 past one, lower for each worse
 * metric), and the portrait warp: a synthetic frame whose landmarks are rotated, scaled and moved
 * comes out with the eyes level at the portrait's eye line and the face centred. */
#include "../../src/server/photo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic ignored "-Wunused-function"
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif

static int g_pass, g_fail;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static vf_quality ideal(const vf_quality_config *c) {
    vf_quality q;
    memset(&q, 0, sizeof q);
    q.face_count = 1;
    q.brightness = (c->min_brightness + c->max_brightness) / 2;
    q.eye_open = 2 * c->min_eye_open;
    q.sharpness = 1e6f;
    return q;
}

static void test_score(void) {
    vf_quality_config c = vf_quality_default_config();
    if (!(c.min_sharpness > 0)) c.min_sharpness = 0.05f;
    vf_quality q = ideal(&c);
    float best = vf_srv_photo_quality(&q, &c, 300);
    CHECK(best > 0.99f && best <= 1.0f, "ideal frame: %g", best);
    /* every factor at its threshold: 0.5 each, so 0.5 overall */
    vf_quality t = q;
    t.yaw = c.max_yaw;
    t.sharpness = c.min_sharpness;
    t.brightness = c.max_brightness;
    t.eye_open = c.min_eye_open;
    t.light_asymmetry = c.max_light_asymmetry;
    t.glare = c.max_glare;
    float at = vf_srv_photo_quality(&t, &c, 100);
    CHECK(fabsf(at - 0.5f) < 0.01f, "everything at its threshold: %g", at);
    /* each metric alone: worse -> lower, and in 0..1 */
    struct { const char *name; float *field; float worse; } W[] = {
        {"yaw", &q.yaw, c.max_yaw / 2}, {"pitch", &q.pitch, -c.max_pitch / 2}, {"roll", &q.roll, c.max_roll / 2},
        {"sharpness", &q.sharpness, c.min_sharpness * 2}, {"brightness", &q.brightness, c.min_brightness + 5},
        {"eye_open", &q.eye_open, c.min_eye_open * 1.2f}, {"light_asymmetry", &q.light_asymmetry, c.max_light_asymmetry / 2},
        {"glare", &q.glare, c.max_glare / 2},
    };
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        float keep = *W[i].field;
        *W[i].field = W[i].worse;
        float s = vf_srv_photo_quality(&q, &c, 300);
        CHECK(s < best - 0.01f && s > 0.5f, "%s worse: %g < %g", W[i].name, s, best);
        *W[i].field = keep;
    }
    CHECK(vf_srv_photo_quality(&q, &c, 80) < vf_srv_photo_quality(&q, &c, 160), "a smaller face scores lower");
    q.yaw = c.max_yaw * 2.5f;
    CHECK(vf_srv_photo_quality(&q, &c, 300) == 0, "far past a threshold: 0");
}

/* A frame with a bright square on each "eye": after the warp they must sit level on the
 * portrait's eye line, left and right of the centre. */
static void test_warp(void) {
    vf_context_options co = {0};
    vf_context *ctx = NULL;
    if (vf_context_create(&co, &ctx) != VF_OK) { CHECK(0, "context"); return; }
    const int W = 640, H = 480;
    vf_image_buffer img;
    memset(&img, 0, sizeof img);
    img.width = W;
    img.height = H;
    img.stride = (size_t)W * 3;
    img.format = VF_PIXEL_RGB8;
    img.data = calloc((size_t)W * H, 3);
    /* the template's points rotated 20 degrees, scaled 1.7x, placed off centre */
    float a = 20 * (float)M_PI / 180, k = 1.7f, cx = 380, cy = 200;
    vf_frame_status st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 5; i++) {
        float x = (vf_arcface_template_112[i][0] - 56) * k, y = (vf_arcface_template_112[i][1] - 56) * k;
        st.landmarks5[i][0] = cx + cosf(a) * x - sinf(a) * y;
        st.landmarks5[i][1] = cy + sinf(a) * x + cosf(a) * y;
    }
    for (int e = 0; e < 2; e++)
        for (int y = -3; y <= 3; y++)
            for (int x = -3; x <= 3; x++) {
                int px = (int)lroundf(st.landmarks5[e][0]) + x, py = (int)lroundf(st.landmarks5[e][1]) + y;
                memset(img.data + (size_t)py * img.stride + (size_t)px * 3, 255, 3);
            }
    st.face_box[0] = cx - 60; st.face_box[1] = cy - 60; st.face_box[2] = cx + 60; st.face_box[3] = cy + 80;
    vf_quality_config qc = vf_quality_default_config();
    st.quality = ideal(&qc);
    vf_srv_photo p;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    int rc = vf_srv_photo_make(ctx, &img, &st, &qc, &p);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    printf("portrait of a 640x480 frame: %.1f ms of CPU, %zu bytes\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, p.len);
    CHECK(rc == 0 && p.width == VF_SRV_PORTRAIT_W && p.height == VF_SRV_PORTRAIT_H && p.len > 100, "portrait made (%d)", rc);
    if (rc == 0) {
        int w, h, n;
        uint8_t *px = stbi_load_from_memory(p.jpeg, (int)p.len, &w, &h, &n, 1);
        CHECK(px && w == VF_SRV_PORTRAIT_W && h == VF_SRV_PORTRAIT_H, "a JPEG of %dx%d", w, h);
        /* the bright spots' centroids, left and right half */
        double sx[2] = {0}, sy[2] = {0}, sw[2] = {0};
        for (int y = 0; px && y < h; y++)
            for (int x = 0; x < w; x++)
                if (px[y * w + x] > 128) { int s = x >= w / 2; sx[s] += x; sy[s] += y; sw[s] += 1; }
        CHECK(sw[0] > 10 && sw[1] > 10, "both eyes visible");
        if (sw[0] > 10 && sw[1] > 10) {
            double ly = sy[0] / sw[0], ry = sy[1] / sw[1], lx = sx[0] / sw[0], rx = sx[1] / sw[1];
            CHECK(fabs(ly - ry) < 2, "eyes level: %g vs %g", ly, ry);
            CHECK(fabs((ly + ry) / 2 - 0.42 * h) < 3, "on the eye line: %g (want %g)", (ly + ry) / 2, 0.42 * h);
            CHECK(fabs((lx + rx) / 2 - w / 2.0) < 6, "centred: %g", (lx + rx) / 2);
        }
        free(px);
        free(p.jpeg);
    }
    memset(st.face_box, 0, sizeof st.face_box);
    CHECK(vf_srv_photo_make(ctx, &img, &st, &qc, &p) == -1 && !p.jpeg, "no face in the frame: no photo");
    free(img.data);
    vf_context_free(ctx);
}

int main(void) {
    test_score();
    test_warp();
    printf("test_photo: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
