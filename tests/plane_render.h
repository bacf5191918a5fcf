/* plane_render.h - a flat attack, synthesised: what a 640x480 webcam sees when a photo is held as
 * a plane and tilted (tests/planarity_eval.c, tests/test_planarity.c). Header-only, RGB8.
 *
 * The photo's point (u, v) sits at a * (u - fx, v - fy, 0) around the face centre (fx, fy), which
 * is where a hand holds it; the plane is rotated by yaw (about the vertical axis) then pitch (about
 * the horizontal one) and placed at (tx, ty, z) before a pinhole camera of focal PLANE_FOCAL with
 * the principal point at the frame centre. With z = PLANE_FOCAL and no rotation, one photo pixel
 * times `a` is one camera pixel. The map photo -> frame is the plane's homography H = K G. */
#ifndef VF_PLANE_RENDER_H
#define VF_PLANE_RENDER_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define PLANE_FOCAL 550.0   /* ~60 degrees horizontal field of view at 640 px: a laptop webcam */
#define PLANE_W 640
#define PLANE_H 480

typedef struct plane_img { int w, h; uint8_t *p; } plane_img;   /* RGB8, packed */

static inline void plane_mat3_inv(const double m[9], double o[9]) {
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
    double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g, det = a * A + b * B + c * C;
    o[0] = A / det; o[1] = -(b * i - c * h) / det; o[2] = (b * f - c * e) / det;
    o[3] = B / det; o[4] = (a * i - c * g) / det;  o[5] = -(a * f - c * d) / det;
    o[6] = C / det; o[7] = -(a * h - b * g) / det; o[8] = (a * e - b * d) / det;
}

/* Render into out (PLANE_W x PLANE_H, allocated here; free out->p). Outside the photo: a flat grey
 * room. Sensor noise: uniform +-noise from the LCG state *rng (deterministic). */
static inline void plane_render(const plane_img *src, double a, double fx, double fy, double yaw_deg, double pitch_deg,
                                double tx, double ty, double z, double noise, uint32_t *rng, plane_img *out) {
    double y = yaw_deg * 0.017453292519943295, p = pitch_deg * 0.017453292519943295;
    double Ry[9] = {cos(y), 0, sin(y), 0, 1, 0, -sin(y), 0, cos(y)};
    double Rx[9] = {1, 0, 0, 0, cos(p), -sin(p), 0, sin(p), cos(p)};
    double R[9], G[9], T[3] = {tx, ty, z}, H[9], Hi[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) R[3 * i + j] = Rx[3 * i] * Ry[j] + Rx[3 * i + 1] * Ry[3 + j] + Rx[3 * i + 2] * Ry[6 + j];
    /* camera point = G (u, v, 1): columns a R e1, a R e2, T - a fx R e1 - a fy R e2 */
    for (int i = 0; i < 3; i++) {
        G[3 * i] = a * R[3 * i];
        G[3 * i + 1] = a * R[3 * i + 1];
        G[3 * i + 2] = T[i] - a * fx * R[3 * i] - a * fy * R[3 * i + 1];
    }
    const double K[9] = {PLANE_FOCAL, 0, PLANE_W / 2.0, 0, PLANE_FOCAL, PLANE_H / 2.0, 0, 0, 1};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) H[3 * i + j] = K[3 * i] * G[j] + K[3 * i + 1] * G[3 + j] + K[3 * i + 2] * G[6 + j];
    plane_mat3_inv(H, Hi);
    out->w = PLANE_W;
    out->h = PLANE_H;
    out->p = malloc((size_t)PLANE_W * PLANE_H * 3);
    for (int yy = 0; yy < PLANE_H; yy++)
        for (int xx = 0; xx < PLANE_W; xx++) {
            /* continuous coordinates: pixel centres at +0.5 on both sides */
            double X = xx + 0.5, Y = yy + 0.5, w = Hi[6] * X + Hi[7] * Y + Hi[8];
            double u = (Hi[0] * X + Hi[1] * Y + Hi[2]) / w - 0.5, v = (Hi[3] * X + Hi[4] * Y + Hi[5]) / w - 0.5;
            uint8_t *o = out->p + ((size_t)yy * PLANE_W + xx) * 3;
            *rng = *rng * 1664525u + 1013904223u;
            double nz = ((*rng >> 8) / 16777216.0 - 0.5) * 2 * noise;
            if (!(w > 0 && u >= 0 && v >= 0 && u <= src->w - 1 && v <= src->h - 1)) {
                for (int k = 0; k < 3; k++) o[k] = (uint8_t)(110 + nz);
                continue;
            }
            int u0 = (int)u, v0 = (int)v, u1 = u0 + 1 < src->w ? u0 + 1 : u0, v1 = v0 + 1 < src->h ? v0 + 1 : v0;
            double fu = u - u0, fv = v - v0;
            const uint8_t *s = src->p;
            for (int k = 0; k < 3; k++) {
                double c = (1 - fv) * ((1 - fu) * s[((size_t)v0 * src->w + u0) * 3 + k] + fu * s[((size_t)v0 * src->w + u1) * 3 + k]) +
                           fv * ((1 - fu) * s[((size_t)v1 * src->w + u0) * 3 + k] + fu * s[((size_t)v1 * src->w + u1) * 3 + k]) + nz;
                o[k] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c + 0.5);
            }
        }
}

#endif
