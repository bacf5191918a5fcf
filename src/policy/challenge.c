/* challenge.c - the active challenge (see challenge.h): derived from the nonce, checked on the
 * server's own measurements of the frames. */
#include "challenge.h"
#include "../core/sha256.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

vf_challenge_config vf_challenge_default_config(void) {
    vf_challenge_config c;
    memset(&c, 0, sizeof c);
    c.steps = 2;
    c.light = 1;
    c.colors = 8;
    c.color_ms = 500;
    c.min_yaw = 18.0f;
    c.min_pitch = 12.0f;
    c.centre = 10.0f;
    c.step_ms = 5000;
    c.max_gap_ms = 400;
    c.max_speed = 360.0f;
    c.min_light_corr = 0.35f;   /* measured: tests/server/measure_light (docs/CHALLENGE.md) */
    c.min_light_colors = 4;
    return c;
}

int vf_challenge_config_check(const vf_challenge_config *c, char *err, int es) {
    const char *bad = NULL;
    if (c->steps < 2 || c->steps > VF_CHALLENGE_MAX_STEPS) bad = "steps must be 2..3";
    else if (c->light != 0 && c->light != 1) bad = "light must be true or false";
    else if (c->colors < 4 || c->colors > VF_CHALLENGE_MAX_COLORS) bad = "colors must be 4..12";
    else if (c->color_ms < 350 || c->color_ms > 2000) bad = "color_ms must be 350..2000 (WCAG 2.3.1: at most 3 flashes a second)";
    else if (!(c->min_yaw >= 8 && c->min_yaw <= 45) || !(c->min_pitch >= 6 && c->min_pitch <= 35)) bad = "min_yaw 8..45, min_pitch 6..35";
    else if (!(c->centre >= 3 && c->centre < c->min_pitch && c->centre < c->min_yaw)) bad = "centre must be 3.. and below min_yaw/min_pitch";
    else if (c->step_ms < 1000 || c->step_ms > 20000 || c->max_gap_ms < 50 || c->max_gap_ms > 2000) bad = "step_ms 1000..20000, max_gap_ms 50..2000";
    else if (!(c->max_speed >= 60 && c->max_speed <= 2000)) bad = "max_speed must be 60..2000";
    else if (!(c->min_light_corr >= 0 && c->min_light_corr <= 1) || c->min_light_colors < 2 || c->min_light_colors > c->colors)
        bad = "min_light_corr 0..1, min_light_colors 2..colors";
    if (bad && err && es > 0) snprintf(err, (size_t)es, "challenge: %s", bad);
    return bad ? -1 : 0;
}

/* The palette: soft colours of similar brightness (a colour change is not a flash of light), no
 * saturated red (WCAG 2.3.1's red flash), far apart in chroma so the face's response is clear. */
static const uint8_t PALETTE[6][3] = {
    {80, 140, 255},    /* blue */
    {80, 230, 110},    /* green */
    {255, 225, 80},    /* yellow */
    {190, 110, 255},   /* violet */
    {70, 225, 235},    /* cyan */
    {255, 170, 120},   /* peach (a warm tint, not a saturated red) */
};

const char *vf_direction_name(vf_direction d) {
    static const char *n[] = {"left", "right", "up", "down"};
    return (unsigned)d < 4 ? n[d] : "?";
}

void vf_challenge_derive(const vf_challenge_config *c, const char *nonce, vf_challenge *out) {
    memset(out, 0, sizeof *out);
    /* 32 bytes of SHA-256("veriface challenge v1\0" || nonce): one byte per choice */
    uint8_t buf[512], h[32];
    static const char TAG[] = "veriface challenge v1";
    size_t n = strlen(nonce ? nonce : "");
    if (n > sizeof buf - sizeof TAG) n = sizeof buf - sizeof TAG;
    memcpy(buf, TAG, sizeof TAG);
    if (n) memcpy(buf + sizeof TAG, nonce, n);
    vf_sha256(buf, sizeof TAG + n, h);
    int k = 0;
    out->n_steps = c->steps;
    for (int i = 0; i < c->steps; i++) {
        /* 4 directions, never the previous one: 4 x 3 x 3 = 36 sequences of 3 */
        int d = i == 0 ? h[k++] % 4 : (int)(out->step[i - 1] + 1 + h[k++] % 3) % 4;
        out->step[i] = (vf_direction)d;
    }
    out->light = c->light;
    out->color_ms = c->color_ms;
    out->n_colors = c->light ? c->colors : 0;
    int prev = -1;
    for (int i = 0; i < out->n_colors; i++) {
        int p = prev < 0 ? h[k++] % 6 : (prev + 1 + h[k++] % 5) % 6;
        memcpy(out->color[i], PALETTE[p], 3);
        prev = p;
    }
}

static void reason(vf_challenge_result *o, const char *r) {
    for (int i = 0; i < o->n_reasons; i++) if (!strcmp(o->reasons[i], r)) return;
    if (o->n_reasons < VF_CHALLENGE_MAX_REASONS) o->reasons[o->n_reasons++] = r;
}

/* When both axes are past their angles, the one further past (relative to its angle) wins: people
 * looking up turn a little too (20 degrees of yaw while looking up in our video). */
int vf_challenge_pose_class(const vf_challenge_config *c, float yaw, float pitch) {
    float ry = fabsf(yaw) / c->min_yaw, rp = fabsf(pitch) / c->min_pitch;
    if (ry >= 1 && ry >= rp) return yaw > 0 ? VF_DIR_LEFT : VF_DIR_RIGHT;
    if (rp >= 1) return pitch > 0 ? VF_DIR_UP : VF_DIR_DOWN;
    if (fabsf(yaw) < c->centre && fabsf(pitch) < c->centre) return 4;
    return -1;
}

/* The face's chroma against the colours the page showed: the correlation of the frame-to-frame
 * changes of (log R/G, log B/G) of the face with the changes of the colour on screen at each
 * frame's time minus the camera's latency. Skin lit by a screen shifts towards its colour when the
 * colour switches; a recording, an injected stream or a replay screen does not follow a sequence
 * drawn after it was made. Changes, not levels: turning the head changes the face's colour too,
 * but slowly, while the screen switches at once. */
static void light_check(const vf_challenge_config *c, const vf_challenge *ch, const vf_challenge_obs *obs, int n, double t0,
                        vf_challenge_result *o) {
    o->light_corr = NAN;
    if (!isfinite(t0)) return;
    float best = -2;
    for (int lat = 0; lat <= 300; lat += 50) {
        double so = 0, se = 0, sx = 0;
        int m = 0, seen = 0, prev = -1;
        double po[2] = {0, 0}, pe[2] = {0, 0};
        for (int i = 0; i < n && i < VF_CHALLENGE_MAX_FRAMES; i++) {
            int ok = obs[i].face && obs[i].rgb[0] > 1 && obs[i].rgb[1] > 1 && obs[i].rgb[2] > 1;
            double k = floor((obs[i].t_ms - lat - t0) / ch->color_ms);
            if (!ok || k < 0 || k >= ch->n_colors) { prev = -1; continue; }
            const uint8_t *col = ch->color[(int)k];
            double oc[2] = {log(obs[i].rgb[0] / obs[i].rgb[1]), log(obs[i].rgb[2] / obs[i].rgb[1])};
            double ec[2] = {log((double)col[0] / col[1]), log((double)col[2] / col[1])};
            seen |= 1 << (int)k;
            if (prev >= 0) {
                for (int q = 0; q < 2; q++) {
                    double a = oc[q] - po[q], b = ec[q] - pe[q];
                    so += a * a; se += b * b; sx += a * b;
                }
                m++;
            }
            prev = i;
            memcpy(po, oc, sizeof po);
            memcpy(pe, ec, sizeof pe);
        }
        int colors = 0;
        for (int b = 0; b < ch->n_colors; b++) colors += (seen >> b) & 1;
        if (m < 4) continue;
        float corr = so > 0 && se > 0 ? (float)(sx / sqrt(so * se)) : 0;
        if (corr > best) { best = corr; o->light_corr = corr; o->light_colors = colors; o->light_latency_ms = lat; }
    }
}

void vf_challenge_evaluate(const vf_challenge_config *c, const vf_challenge *ch, const vf_challenge_obs *obs, int n,
                           double light_start_ms, vf_challenge_depth depth, vf_challenge_result *o) {
    memset(o, 0, sizeof *o);
    o->light_corr = NAN;
    int faces = 0;   /* n checked before obs is read: the caller's array may hold fewer */
    for (int i = 0; n >= 4 && n <= VF_CHALLENGE_MAX_FRAMES && i < n; i++) faces += obs[i].face != 0;
    if (n < 4 || faces < 4 || n > VF_CHALLENGE_MAX_FRAMES) { reason(o, "challenge.no_frames"); return; }
    /* one continuous stream: increasing time, no long gap, no jump of the head */
    for (int i = 1; i < n; i++) {
        double dt = obs[i].t_ms - obs[i - 1].t_ms;
        if (!(dt > 0) || dt > c->max_gap_ms) { reason(o, "challenge.discontinuous"); break; }
        if (obs[i].face && obs[i - 1].face) {
            float dyaw = fabsf(obs[i].yaw - obs[i - 1].yaw), dpitch = fabsf(obs[i].pitch - obs[i - 1].pitch);
            float move = dyaw > dpitch ? dyaw : dpitch;
            if (move > c->max_speed * (float)(dt / 1000.0) + c->centre) { reason(o, "challenge.discontinuous"); break; }
        }
    }
    /* the steps, in order: reach step k, come back to the centre, reach step k+1 ... each in time */
    int k = 0, need_centre = 1;
    double since = obs[0].t_ms;
    for (int i = 0; i < n && k < ch->n_steps; i++) {
        if (!obs[i].face) continue;
        int pc = vf_challenge_pose_class(c, obs[i].yaw, obs[i].pitch);
        if (pc == 4) { need_centre = 0; continue; }
        /* after a step, on the way back to the centre, the head may pass other directions (a look up
         * that drifts sideways): only a move that starts from the centre is a step */
        if (pc < 0 || need_centre) continue;
        /* the step just done, again: a head that came back to about the centre and dipped once more
         * (a pose near the centre's edge reads either side by a degree). It is no move towards
         * another step, so it waits for the centre again rather than failing an honest user. */
        if (k > 0 && pc == (int)ch->step[k - 1]) { need_centre = 1; continue; }
        if (pc != (int)ch->step[k]) { reason(o, "challenge.wrong_order"); break; }
        if (obs[i].t_ms - since > c->step_ms) break;     /* too late: incomplete below */
        o->step_at[k] = obs[i].t_ms;
        since = obs[i].t_ms;
        k++;
        need_centre = 1;
    }
    o->steps_done = k;
    if (k < ch->n_steps) reason(o, "challenge.incomplete");
    if (depth == VF_DEPTH_FLAT) reason(o, "challenge.flat");
    else if (depth != VF_DEPTH_3D) reason(o, "challenge.depth_unknown");
    if (ch->light) {
        light_check(c, ch, obs, n, light_start_ms, o);
        if (!(o->light_corr >= c->min_light_corr) || o->light_colors < c->min_light_colors) reason(o, "challenge.light");
    }
    o->met = o->n_reasons == 0;
}
