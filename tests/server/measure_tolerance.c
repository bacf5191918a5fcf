/* measure_tolerance.c - how far the server's numbers move from the client's on honest captures:
 * the client runs the session on raw RGBA frames with the `simd` backend (the browser), the server
 * on the same frames after JPEG encoding (stb_image_write, quality 92, as the page's
 * convertToBlob) and decoding, with XNNPACK. For every window of `good_frames` consecutive frames
 * of the MJPEG video that completes on the client it prints the largest per-metric differences,
 * the PAD median difference on the client's chosen frames and the embedding cosine on the
 * client's best frame. The server's tamper tolerances (src/server/config.c) come from this.
 *
 * usage: measure_tolerance MODELS PAD_MODELS VIDEO.mjpeg [--quality Q] [--good-frames K] [--relaxed] */
#include "veriface.h"
#include "../../src/session/session.h"
#include "../../src/server/server.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0)
#include <stb_image_write.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../test_util.h"




#define MAXF 2000
static int cmp_float(const void *a, const void *b) { float x = *(const float *)a, y = *(const float *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: measure_tolerance MODELS PAD_MODELS VIDEO.mjpeg [--quality Q] [--good-frames K] [--relaxed]\n"); return 2; }
    int quality = 92, k = 5, relaxed = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--quality") && i + 1 < argc) quality = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--good-frames") && i + 1 < argc) k = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--relaxed")) relaxed = 1;
    }
    vf_context *cc, *sc;
    vf_context_create(NULL, &cc);
    vf_context_create(NULL, &sc);
    vf_engine *ce = test_engine(cc, argv[1], argv[2], VF_BACKEND_SIMD), *se = test_engine(sc, argv[1], argv[2], VF_BACKEND_XNNPACK);
    if (!ce || !se) return 2;
    size_t n;
    uint8_t *mj = read_file(argv[3], &n);
    if (!mj) { fprintf(stderr, "cannot read %s\n", argv[3]); return 2; }
    /* decode every frame once (raw RGBA = what the browser's camera gives) */
    static vf_image_buffer raw[MAXF];
    int nf = 0;
    for (size_t i = 0; i + 1 < n && nf < MAXF;) {
        if (!(mj[i] == 0xFF && mj[i + 1] == 0xD8)) { i++; continue; }
        size_t j = i + 2;
        while (j + 1 < n && !(mj[j] == 0xFF && mj[j + 1] == 0xD9)) j++;
        if (j + 1 >= n) break;
        if (vf_image_decode(cc, mj + i, j + 2 - i, NULL, &raw[nf], NULL) == VF_OK) nf++;
        i = j + 2;
    }
    vf_session_config cfg = vf_session_default_config();
    cfg.good_frames = k;
    cfg.liveness_frames = k < 3 ? k : 3;
    if (relaxed) { /* every frame with a face counts: more windows to measure */
        cfg.quality.min_face_width = 0.05f; cfg.quality.max_center_offset = 1; cfg.quality.max_yaw = cfg.quality.max_pitch = 60;
        cfg.quality.max_roll = 60; cfg.quality.min_brightness = 20; cfg.quality.max_motion = 10; cfg.quality.min_sharpness = 0;
        cfg.quality.max_light_asymmetry = 5; cfg.quality.max_glare = 1; cfg.quality.min_eye_open = 0;
    }
    double maxd[VF_SRV_QMETRICS] = {0}, maxrel[VF_SRV_QMETRICS] = {0};
    static float live_d[MAXF], emb_c[MAXF];
    int windows = 0, frames_cmp = 0, server_bad = 0;
    double t = 0;
    for (int start = 0; start + k <= nf; start++) {
        vf_session *cs, *ss;
        vf_session_create(ce, &cfg, &cs);
        vf_session_create(se, &cfg, &ss);
        vf_frame_status cst[8], sst[8];
        int ok = 1;
        for (int i = 0; i < k && ok; i++) {
            vf_image_buffer *b = &raw[start + i];
            vf_frame f = {b->width, b->height, b->stride, 4, b->data, t += 66.7};
            ok = vf_session_push_frame(cs, &f, &cst[i]) == VF_OK && cst[i].good;
        }
        if (!ok || !cst[k - 1].complete) { vf_session_free(cs); vf_session_free(ss); continue; }
        static vf_image_buffer dec[8];
        for (int i = 0; i < k; i++) {
            vf_image_buffer *b = &raw[start + i];
            membuf m = {0};
            stbi_write_jpg_to_func(mb_write, &m, b->width, b->height, 4, b->data, quality);
            vf_image_decode(sc, m.p, m.n, NULL, &dec[i], NULL);
            free(m.p);
            vf_frame f = {dec[i].width, dec[i].height, dec[i].stride, 4, dec[i].data, t};
            vf_session_push_frame(ss, &f, &sst[i]);
            if (!sst[i].good) server_bad++;
        }
        for (int i = 0; i < k; i++) {
            frames_cmp++;
            for (int m = 0; m < VF_SRV_QMETRICS; m++) {
                if (i == 0 && !strcmp(vf_srv_qmetrics[m].name, "motion")) continue;
                float a = *(const float *)((const char *)&cst[i].quality + vf_srv_qmetrics[m].offset);
                float b = *(const float *)((const char *)&sst[i].quality + vf_srv_qmetrics[m].offset);
                double d = fabs((double)a - b);
                if (d > maxd[m]) maxd[m] = d;
                if (fabs(b) > 1e-6 && d / fabs(b) > maxrel[m]) maxrel[m] = d / fabs(b);
            }
        }
        vf_session_result cr;
        vf_session_finish(cs, &cr);
        /* server PAD on the client's chosen frames and its embedding of the client's best frame,
         * asked of the server's session as the server does (src/server/rerun.c) */
        int nl = cfg.liveness_frames, pos[8];
        for (int i = 0; i < nl; i++) pos[i] = cr.chosen[i] - cst[0].index;
        float smed = 0;
        vf_session_liveness_of(ss, pos, nl, &smed);
        live_d[windows] = fabsf(smed - cr.live_score);
        static float emb[1024];
        int dim = 0;
        /* a frame the server's session did not keep (not good there) has no server embedding: the
         * server then compares its own best frame's; such windows are left out here */
        emb_c[windows] = vf_session_embedding_of(ss, pos[0], emb, 1024, &dim) == VF_OK ? vf_match_similarity(emb, cr.embedding, dim) : 2.0f;
        windows++;
        for (int i = 0; i < k; i++) vf_image_buffer_free(&dec[i]);
        vf_session_free(cs);
        vf_session_free(ss);
    }
    printf("video %s: %d frames decoded, %d complete windows of %d frames (%s quality), %d frame comparisons, JPEG q%d\n",
           argv[3], nf, windows, k, relaxed ? "relaxed" : "default", frames_cmp, quality);
    printf("server re-run found %d of those client-good frames not good\n", server_bad);
    printf("%-16s %12s %12s\n", "metric", "max |diff|", "max rel");
    for (int m = 0; m < VF_SRV_QMETRICS; m++) printf("%-16s %12.5f %12.4f\n", vf_srv_qmetrics[m].name, maxd[m], maxrel[m]);
    if (windows) {
        qsort(live_d, (size_t)windows, sizeof(float), cmp_float);
        qsort(emb_c, (size_t)windows, sizeof(float), cmp_float);   /* 2.0 (not kept) sorts last */
        printf("liveness median |diff| on the client's frames: max %.4f, p99 %.4f, p90 %.4f, p50 %.4f\n", live_d[windows - 1],
               live_d[(int)(0.99 * (windows - 1))], live_d[(int)(0.9 * (windows - 1))], live_d[windows / 2]);
        int over[3] = {0};
        for (int i = 0; i < windows; i++) over[0] += live_d[i] > 0.05f, over[1] += live_d[i] > 0.10f, over[2] += live_d[i] > 0.15f;
        printf("windows with liveness |diff| > 0.05: %d, > 0.10: %d, > 0.15: %d (of %d)\n", over[0], over[1], over[2], windows);
        printf("embedding cosine (client vs server, same frame): min %.4f, p50 %.4f\n", emb_c[0], emb_c[windows / 2]);
    }
    return 0;
}
