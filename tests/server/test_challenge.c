/* test_challenge.c - the active challenge (src/policy/challenge.c) on synthetic observations:
 * derivation from the nonce, the order/continuity/timing rules, the depth outcome and the
 * screen-light correlation. Real frames are checked by the server tests. */
#include "challenge.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int g_pass, g_fail;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static int has(const vf_challenge_result *r, const char *s) {
    for (int i = 0; i < r->n_reasons; i++) if (!strcmp(r->reasons[i], s)) return 1;
    return 0;
}

/* A head that follows `steps` at 10 frames a second: 0.4 s facing the camera, then per step a turn
 * to 25 degrees and back (1.2 s), the face lit by the screen colour of each moment (gain: how
 * strongly skin takes the screen's chroma; 0 = not lit, e.g. an injected recording). */
static int simulate(const vf_challenge *ch, const vf_direction *steps, int n_steps, double t0, double light_t0, float gain,
                    unsigned seed, vf_challenge_obs *obs) {
    int n = 0;
    double t = t0;
    for (int i = 0; i < 4; i++, t += 100) obs[n++] = (vf_challenge_obs){t, 1, 0, 0, {150, 110, 90}};
    for (int s = 0; s < n_steps; s++) {
        for (int i = 0; i < 12; i++, t += 100) {
            float a = 25.0f * sinf(3.14159265f * (float)i / 11.0f);
            float yaw = steps[s] == VF_DIR_LEFT ? a : steps[s] == VF_DIR_RIGHT ? -a : 0;
            float pitch = steps[s] == VF_DIR_UP ? a : steps[s] == VF_DIR_DOWN ? -a : 0;
            obs[n++] = (vf_challenge_obs){t, 1, yaw, pitch, {150, 110, 90}};
        }
    }
    for (int i = 0; i < 6; i++, t += 100) obs[n++] = (vf_challenge_obs){t, 1, 0, 0, {150, 110, 90}};
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        float noise = ((float)(seed >> 16 & 1023) / 1023.0f - 0.5f) * 0.02f;
        double kf = floor((obs[i].t_ms - 120 - light_t0) / ch->color_ms);   /* the camera's 120 ms delay */
        int k = kf >= 0 && kf < ch->n_colors ? (int)kf : -1;                  /* NaN (light off): unlit */
        for (int q = 0; q < 3; q++) {
            float lit = k >= 0 && k < ch->n_colors ? ch->color[k][q] / 255.0f - 0.6f : 0;
            obs[i].rgb[q] *= 1.0f + gain * lit + noise;
        }
    }
    return n;
}

int main(void) {
    vf_challenge_config c = vf_challenge_default_config();
    char err[128];
    CHECK(vf_challenge_config_check(&c, err, sizeof err) == 0, "defaults valid: %s", err);
    vf_challenge_config bad = c;
    bad.color_ms = 200;   /* 5 changes a second: over WCAG 2.3.1 */
    CHECK(vf_challenge_config_check(&bad, err, sizeof err) != 0 && strstr(err, "WCAG"), "fast colours refused");

    /* derivation: deterministic, depends on the nonce, no repeats, every 2-step sequence reachable */
    vf_challenge a, b;
    vf_challenge_derive(&c, "nonce-A", &a);
    vf_challenge_derive(&c, "nonce-A", &b);
    CHECK(!memcmp(&a, &b, sizeof a), "the same nonce gives the same challenge");
    int seen[4][4] = {{0}}, differ = 0, repeats = 0, reds = 0;
    for (int i = 0; i < 400; i++) {
        char nonce[32];
        snprintf(nonce, sizeof nonce, "n%d", i);
        vf_challenge x;
        vf_challenge_derive(&c, nonce, &x);
        seen[x.step[0]][x.step[1]]++;
        differ += memcmp(&x, &a, sizeof x) != 0;
        repeats += x.step[0] == x.step[1];
        for (int k = 0; k < x.n_colors; k++) {
            if (k > 0 && !memcmp(x.color[k], x.color[k - 1], 3)) repeats++;
            if (x.color[k][0] > 200 && x.color[k][1] < 100 && x.color[k][2] < 100) reds++;
        }
    }
    int sequences = 0;
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) sequences += seen[i][j] > 0;
    CHECK(sequences == 12 && repeats == 0 && differ >= 395 && reds == 0,
          "12 two-step sequences seen (%d), no repeated step or colour (%d), nonces differ (%d), no saturated red (%d)", sequences,
          repeats, differ, reds);
    vf_challenge_config c3 = c;
    c3.steps = 3;
    c3.light = 0;
    vf_challenge d3;
    vf_challenge_derive(&c3, "nonce-B", &d3);
    CHECK(d3.n_steps == 3 && d3.n_colors == 0 && !d3.light, "3 steps without light");

    /* an honest capture: the steps in order, lit by the colours -> met */
    vf_challenge_obs obs[VF_CHALLENGE_MAX_FRAMES];
    vf_challenge_result r;
    double t0 = 1.7e12;
    int n = simulate(&a, a.step, a.n_steps, t0, t0, 0.08f, 1, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(r.met && r.steps_done == 2 && r.light_corr > 0.8f, "honest: met %d, steps %d, light %.3f (%s)", r.met, r.steps_done,
          r.light_corr, r.n_reasons ? r.reasons[0] : "");
    /* the same frames with a flat face, or too little motion to tell */
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_FLAT, &r);
    CHECK(!r.met && has(&r, "challenge.flat"), "flat face refused");
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_UNKNOWN, &r);
    CHECK(!r.met && has(&r, "challenge.depth_unknown"), "unknown depth refused");
    /* a recording (not lit by this nonce's colours), or lit by another nonce's colours */
    n = simulate(&a, a.step, a.n_steps, t0, t0, 0.0f, 2, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.light"), "unlit: refused (corr %.3f)", r.light_corr);
    vf_challenge other;
    vf_challenge_derive(&c, "nonce-other", &other);
    n = simulate(&other, a.step, a.n_steps, t0, t0, 0.08f, 3, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.light"), "another nonce's colours: refused (corr %.3f)", r.light_corr);
    /* the steps in the wrong order, or only the first one */
    vf_direction rev[2] = {a.step[1], a.step[0]};
    n = simulate(&a, rev, 2, t0, t0, 0.08f, 4, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.wrong_order"), "wrong order refused");
    /* the first step made twice (back to about the centre, then the same dip again) before the
     * second: an honest head, not a wrong order; a third direction in its place still is */
    vf_direction twice[3] = {a.step[0], a.step[0], a.step[1]};
    n = simulate(&a, twice, 3, t0, t0, 0.08f, 4, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(r.met && r.steps_done == 2, "the step just done, again: met (%s)", r.n_reasons ? r.reasons[0] : "");
    vf_direction other3 = (vf_direction)0;
    while (other3 == a.step[0] || other3 == a.step[1]) other3 = (vf_direction)(other3 + 1);
    vf_direction astray[3] = {a.step[0], other3, a.step[1]};
    n = simulate(&a, astray, 3, t0, t0, 0.08f, 4, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.wrong_order"), "another direction between the steps: wrong order");
    n = simulate(&a, a.step, 1, t0, t0, 0.08f, 5, obs);
    vf_challenge_evaluate(&c, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.incomplete") && r.steps_done == 1, "one step of two: incomplete");
    /* frames cut from a recording: a gap, a jump of the head, time going backwards */
    n = simulate(&a, a.step, a.n_steps, t0, t0, 0.08f, 6, obs);
    vf_challenge_obs cut[VF_CHALLENGE_MAX_FRAMES];
    memcpy(cut, obs, sizeof obs);
    for (int i = 10; i < n; i++) cut[i].t_ms += 900;
    vf_challenge_evaluate(&c, &a, cut, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.discontinuous"), "a 1 s gap: discontinuous");
    /* a head at 25 degrees left in one frame and 25 right 100 ms later (500 degrees a second): a
     * splice of two recordings (a splice between similar poses is not visible here: the light is) */
    memcpy(cut, obs, sizeof obs);
    cut[9].yaw = 25; cut[9].pitch = 0; cut[10].yaw = -25; cut[10].pitch = 0;
    vf_challenge_evaluate(&c, &a, cut, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.discontinuous"), "a jump of the head: discontinuous");
    memcpy(cut, obs, sizeof obs);
    cut[8].t_ms = cut[7].t_ms;
    vf_challenge_evaluate(&c, &a, cut, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.discontinuous"), "equal timestamps: discontinuous");
    /* too slow: the first step after the step time */
    vf_challenge_config slow = c;
    slow.step_ms = 1000;
    vf_challenge_evaluate(&slow, &a, obs, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.incomplete"), "too slow: incomplete");
    /* no frames, faceless frames, absurd counts */
    vf_challenge_evaluate(&c, &a, obs, 2, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.no_frames"), "2 frames: no_frames");
    for (int i = 0; i < n; i++) cut[i] = obs[i], cut[i].face = 0;
    vf_challenge_evaluate(&c, &a, cut, n, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.no_frames"), "faceless: no_frames");
    vf_challenge_evaluate(&c, &a, obs, VF_CHALLENGE_MAX_FRAMES + 1, t0, VF_DEPTH_3D, &r);
    CHECK(!r.met && has(&r, "challenge.no_frames"), "too many frames refused");
    /* light off: 3 steps, no colour check */
    n = simulate(&d3, d3.step, 3, t0, NAN, 0.0f, 7, obs);
    vf_challenge_evaluate(&c3, &d3, obs, n, NAN, VF_DEPTH_3D, &r);
    CHECK(r.met && isnan(r.light_corr), "light off, 3 steps: met without a colour check (%s)", r.n_reasons ? r.reasons[0] : "");
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
