/* measure_light.c - how well the challenge's screen-light check separates a face lit by the
 * nonce's colours from one that is not (a recording), on a real head turning (a measurement
 * tool, not a test; docs/CHALLENGE.md has the table).
 *
 *   ffmpeg -i ../shared/data/video/apfol_liveness/real2.webm -vf fps=10,scale=480:360 /tmp/r/%03d.jpg
 *   measure_light MODELS PAD_MODELS /tmp/r/NNN.jpg ...
 *
 * Every frame is measured once by vf_motion (pose, face colour). For 400 nonces, the honest answer
 * is the natural segments of the video for the nonce's steps (as tests/server/challenge.test.mjs
 * builds it), its face colour lit by the nonce's colours at a gain g (the colour's share of the
 * light on the face: skin colour x (1 + g (screen / 255 - 0.6)), the camera 120 ms late); g = 0 is
 * a recording. Prints the correlation's quantiles and the pass rate at the configured threshold. */
#include "challenge.h"
#include "image/image.h"
#include "../test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 400
typedef struct fobs { vf_challenge_obs o; int cls; } fobs;   /* cls: -1 none, 0..3 direction, 4 centre */
static fobs F[MAXF];
static int NF;


/* frames [a, b] of the first natural segment for `step`, or -1 */
static int segment(int step, int *a, int *b) {
    for (int p = 0; p < NF; p++) {
        if (F[p].cls != step) continue;
        int x = p, y = p;
        while (x > 0 && F[x].cls != 4) x--;
        while (y < NF - 1 && F[y].cls != 4) y++;
        if (F[x].cls != 4 || F[y].cls != 4) continue;
        int first = -1;
        for (int i = x; i <= y && first < 0; i++) if (F[i].cls >= 0 && F[i].cls < 4) first = F[i].cls;
        if (first == step) { *a = x; *b = y; return 0; }
    }
    return -1;
}

static int cmpf(const void *a, const void *b) { float x = *(const float *)a, y = *(const float *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: measure_light MODELS PAD_MODELS FRAME.jpg...\n"); return 2; }
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    vf_engine *e = test_engine(ctx, argv[1], argv[2], VF_BACKEND_AUTO);
    if (!e) return 1;
    vf_motion *m;
    if (vf_motion_create(e, 96, &m)) return 1;
    vf_challenge_config c = vf_challenge_default_config();
    if (getenv("MIN_LIGHT_CORR")) c.min_light_corr = (float)atof(getenv("MIN_LIGHT_CORR"));
    for (int i = 3; i < argc && NF < MAXF; i++) {
        size_t n;
        uint8_t *b = read_file(argv[i], &n);
        vf_image_decode_options o = vf_image_decode_default_options();
        vf_image_buffer ib;
        if (!b || vf_image_decode(ctx, b, n, &o, &ib, NULL)) { free(b); continue; }
        free(b);
        if (vf_motion_count(m) >= 96) vf_motion_reset(m);
        vf_frame f = {ib.width, ib.height, ib.stride, 4, ib.data, 0};
        vf_motion_frame mf;
        if (!vf_motion_push(m, &f, &mf)) {
            fobs *x = &F[NF++];
            x->o.face = mf.face;
            x->o.yaw = mf.yaw;
            x->o.pitch = mf.pitch;
            memcpy(x->o.rgb, mf.rgb, sizeof x->o.rgb);
            x->cls = mf.face ? vf_challenge_pose_class(&c, mf.yaw, mf.pitch) : -1;
        }
        vf_image_buffer_free(&ib);
    }
    int centre0 = -1;
    for (int i = 0; i + 4 <= NF && centre0 < 0; i++) if (F[i].cls == 4 && F[i + 1].cls == 4 && F[i + 2].cls == 4 && F[i + 3].cls == 4) centre0 = i;
    printf("%d frames measured; centre run at %d\n", NF, centre0);
    static const double GAINS[] = {0, 0.01, 0.02, 0.04, 0.08, 0.12};
    printf("| gain | answers | light_corr p5 / p50 / p95 | passes the light check (>= %.2f) |\n|---|---|---|---|\n", c.min_light_corr);
    for (int g = 0; g < 6; g++) {
        float corr[400];
        int nc = 0, pass = 0;
        for (int t = 0; t < 400; t++) {
            char nonce[32];
            snprintf(nonce, sizeof nonce, "measure-%d", t);
            vf_challenge ch;
            vf_challenge_derive(&c, nonce, &ch);
            vf_challenge_obs obs[VF_CHALLENGE_MAX_FRAMES];
            int n = 0, ok = centre0 >= 0;
            for (int i = 0; ok && i < 4; i++) obs[n++] = F[centre0 + i].o;
            for (int s = 0; ok && s < ch.n_steps; s++) {
                int a, b;
                if (segment(ch.step[s], &a, &b)) { ok = 0; break; }
                for (int i = a; i <= b && n < VF_CHALLENGE_MAX_FRAMES - 3; i++) obs[n++] = F[i].o;
            }
            for (int i = 0; ok && i < 3; i++) obs[n++] = F[centre0 + i].o;
            if (!ok) continue;
            double t0 = 1.7e12;
            for (int i = 0; i < n; i++) {
                obs[i].t_ms = t0 + 100.0 * i;
                int k = (int)floor((obs[i].t_ms - 120 - t0) / ch.color_ms);
                if (k >= 0 && k < ch.n_colors)
                    for (int q = 0; q < 3; q++) obs[i].rgb[q] *= (float)(1.0 + GAINS[g] * (ch.color[k][q] / 255.0 - 0.6));
            }
            vf_challenge_result r;
            vf_challenge_evaluate(&c, &ch, obs, n, t0, VF_DEPTH_3D, &r);
            if (nc < 400) corr[nc++] = isfinite(r.light_corr) ? r.light_corr : -1;
            int light_bad = 0;
            for (int k = 0; k < r.n_reasons; k++) light_bad |= !strcmp(r.reasons[k], "challenge.light");
            pass += !light_bad;
        }
        qsort(corr, (size_t)nc, sizeof corr[0], cmpf);
        if (nc) printf("| %.2f | %d | %.3f / %.3f / %.3f | %.1f%% |\n", GAINS[g], nc, corr[nc / 20], corr[nc / 2], corr[nc * 19 / 20],
                       100.0 * pass / nc);
    }
    vf_motion_free(m);
    vf_engine_free(e);
    vf_context_free(ctx);
    return 0;
}
