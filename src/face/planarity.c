/* planarity.c - homography vs rigid 3-D fits between frames of one capture (see planarity.h).
 *
 * Everything is in double on small fixed-size stack arrays: a 9x9 normal matrix for the DLT
 * (smallest eigenvector by cyclic Jacobi), a 4x4 Gauss-Newton system for the rigid fit. */
#include "planarity.h"

#include <math.h>
#include <string.h>

/* pair score denominator floor, inter-ocular units: about the landmark noise between two frames */
#define MIN_MOTION 0.01f

/* MediaPipe canonical mesh indices (image-left = subject's right). Inner: eye corners and lids,
 * brows, the nose ridge, tip, wings and base, the lips; points a landmark regressor localises
 * from local texture. */
static const short k_inner[] = {
    33, 133, 159, 145, 160, 158, 153, 144, 362, 263, 386, 374, 385, 387, 380, 373,   /* eyes */
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,                                  /* brows */
    168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 64, 294, 48, 278,                /* nose */
    61, 291, 0, 17, 13, 14, 37, 267, 84, 314, 40, 270, 91, 321, 78, 308,            /* mouth */
    10, 151, 9, 152, 199, 175};                                                     /* midline */
/* MediaPipe FACEMESH_FACE_OVAL: the silhouette (on a turned head, the occluding contour) */
static const short k_oval[] = {10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
                               152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109};

typedef struct pset { const short *idx; int n; } pset;

static pset point_set(vf_planarity_points p) {
    if (p == VF_PLANARITY_POINTS_OVAL) return (pset){k_oval, (int)(sizeof k_oval / sizeof k_oval[0])};
    if (p == VF_PLANARITY_POINTS_ALL) return (pset){NULL, VF_MESH_POINTS};
    return (pset){k_inner, (int)(sizeof k_inner / sizeof k_inner[0])};
}

static inline int pidx(pset s, int i) { return s.idx ? s.idx[i] : i; }

vf_planarity_config vf_planarity_default_config(void) {
    vf_planarity_config c;
    c.threshold = 0.25f;
    c.min_pose = 15.0f;
    c.min_pairs = 3;
    c.points = VF_PLANARITY_POINTS_INNER;
    return c;
}

/* ---- checks ------------------------------------------------------------------------------------ */

/* 3-D eye-centre distance (rotation-invariant, unlike the 2-D one on a turned head) */
static double iod3(const vf_face_landmarks *lm) {
    const float (*p)[3] = lm->mesh;
    double d2 = 0;
    for (int k = 0; k < 3; k++) {
        double e = 0.5 * ((double)p[33][k] + p[133][k]) - 0.5 * ((double)p[362][k] + p[263][k]);
        d2 += e * e;
    }
    return sqrt(d2);
}

/* Finite, an inter-ocular distance, and inner points spread in 2-D (not on a line). */
static int frame_ok(const vf_face_landmarks *lm) {
    for (int i = 0; i < VF_MESH_POINTS; i++)
        for (int k = 0; k < 3; k++)
            if (!isfinite(lm->mesh[i][k]) || fabsf(lm->mesh[i][k]) > 1e7f) return 0;
    if (!(iod3(lm) > 1.0)) return 0;
    pset ps = point_set(VF_PLANARITY_POINTS_INNER);
    double c[2] = {0, 0}, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < ps.n; i++) { c[0] += lm->mesh[ps.idx[i]][0]; c[1] += lm->mesh[ps.idx[i]][1]; }
    c[0] /= ps.n; c[1] /= ps.n;
    for (int i = 0; i < ps.n; i++) {
        double x = lm->mesh[ps.idx[i]][0] - c[0], y = lm->mesh[ps.idx[i]][1] - c[1];
        sxx += x * x; syy += y * y; sxy += x * y;
    }
    double half = 0.5 * (sxx + syy), d = sqrt(0.25 * (sxx - syy) * (sxx - syy) + sxy * sxy);
    return half - d > 1e-3 * (half + d);   /* smaller / larger spread: a face is ~0.5 */
}

/* ---- linear algebra ---------------------------------------------------------------------------- */

/* Eigenvector of the smallest eigenvalue of the symmetric 9x9 A (destroyed), cyclic Jacobi. */
static void min_eigvec9(double A[9][9], double v_out[9]) {
    double V[9][9];
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) V[i][j] = i == j;
    double scale = 0;
    for (int i = 0; i < 9; i++) scale += A[i][i] * A[i][i];
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < 9; p++)
            for (int q = p + 1; q < 9; q++) off += A[p][q] * A[p][q];
        if (off <= 1e-30 * scale) break;
        for (int p = 0; p < 9; p++)
            for (int q = p + 1; q < 9; q++) {
                if (A[p][q] == 0) continue;
                double th = (A[q][q] - A[p][p]) / (2 * A[p][q]);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 9; k++) {
                    double akp = A[k][p], akq = A[k][q];
                    A[k][p] = c * akp - s * akq;
                    A[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 9; k++) {
                    double apk = A[p][k], aqk = A[q][k];
                    A[p][k] = c * apk - s * aqk;
                    A[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 9; k++) {
                    double vkp = V[k][p], vkq = V[k][q];
                    V[k][p] = c * vkp - s * vkq;
                    V[k][q] = s * vkp + c * vkq;
                }
            }
    }
    int m = 0;
    for (int i = 1; i < 9; i++)
        if (A[i][i] < A[m][m]) m = i;
    for (int i = 0; i < 9; i++) v_out[i] = V[i][m];
}

/* Solve the symmetric positive (semi)definite n x n system A x = b (n <= 4) by Cholesky with a
 * small ridge; 0 when it is singular even so. */
static int solve_spd(int n, double A[4][4], const double b[4], double x[4]) {
    double L[4][4] = {{0}}, tr = 0;
    for (int i = 0; i < n; i++) tr += A[i][i];
    double ridge = 1e-12 * tr + 1e-300;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = A[i][j] + (i == j ? ridge : 0);
            for (int k = 0; k < j; k++) s -= L[i][k] * L[j][k];
            if (i == j) {
                if (!(s > 0)) return 0;
                L[i][i] = sqrt(s);
            } else L[i][j] = s / L[j][j];
        }
    double y[4];
    for (int i = 0; i < n; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++) s -= L[i][k] * y[k];
        y[i] = s / L[i][i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = y[i];
        for (int k = i + 1; k < n; k++) s -= L[k][i] * x[k];
        x[i] = s / L[i][i];
    }
    return 1;
}

/* ---- the three fits (residuals in pixels of b) --------------------------------------------------- */

/* Centroid and Hartley scale (mean distance from the centroid -> sqrt 2) of the 2-D points. */
static int normaliser(const vf_face_landmarks *lm, pset ps, double c[2], double *s) {
    c[0] = c[1] = 0;
    for (int i = 0; i < ps.n; i++) { c[0] += lm->mesh[pidx(ps, i)][0]; c[1] += lm->mesh[pidx(ps, i)][1]; }
    c[0] /= ps.n; c[1] /= ps.n;
    double d = 0;
    for (int i = 0; i < ps.n; i++) d += hypot(lm->mesh[pidx(ps, i)][0] - c[0], lm->mesh[pidx(ps, i)][1] - c[1]);
    d /= ps.n;
    if (!(d > 1e-6)) return 0;
    *s = sqrt(2.0) / d;
    return 1;
}

/* Normalised DLT (Hartley): least squares over the algebraic error of the normalised points,
 * then the RMS transfer error |H a - b|. 0 when degenerate (points at infinity under H). */
static int fit_homography(const vf_face_landmarks *a, const vf_face_landmarks *b, pset ps, double *rms) {
    double ca[2], cb[2], sa, sb;
    if (!normaliser(a, ps, ca, &sa) || !normaliser(b, ps, cb, &sb)) return 0;
    double M[9][9] = {{0}};
    for (int i = 0; i < ps.n; i++) {
        int k = pidx(ps, i);
        double x = (a->mesh[k][0] - ca[0]) * sa, y = (a->mesh[k][1] - ca[1]) * sa;
        double u = (b->mesh[k][0] - cb[0]) * sb, v = (b->mesh[k][1] - cb[1]) * sb;
        const double r1[9] = {0, 0, 0, -x, -y, -1, v * x, v * y, v};
        const double r2[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, -u};
        for (int p = 0; p < 9; p++)
            for (int q = p; q < 9; q++) M[p][q] += r1[p] * r1[q] + r2[p] * r2[q];
    }
    for (int p = 0; p < 9; p++)
        for (int q = 0; q < p; q++) M[p][q] = M[q][p];
    double h[9];
    min_eigvec9(M, h);
    double e = 0;
    for (int i = 0; i < ps.n; i++) {
        int k = pidx(ps, i);
        double x = (a->mesh[k][0] - ca[0]) * sa, y = (a->mesh[k][1] - ca[1]) * sa;
        double u = (b->mesh[k][0] - cb[0]) * sb, v = (b->mesh[k][1] - cb[1]) * sb;
        double w = h[6] * x + h[7] * y + h[8];
        if (!(fabs(w) > 1e-9)) return 0;
        double du = (h[0] * x + h[1] * y + h[2]) / w - u, dv = (h[3] * x + h[4] * y + h[5]) / w - v;
        e += du * du + dv * dv;
    }
    *rms = sqrt(e / ps.n) / sb;   /* normalised b units -> pixels */
    return isfinite(*rms);
}

/* Least-squares 2-D similarity a -> b (closed form), RMS residual. */
static int fit_similarity(const vf_face_landmarks *a, const vf_face_landmarks *b, pset ps, double *rms) {
    double ca[2] = {0, 0}, cb[2] = {0, 0};
    for (int i = 0; i < ps.n; i++)
        for (int d = 0; d < 2; d++) { ca[d] += a->mesh[pidx(ps, i)][d]; cb[d] += b->mesh[pidx(ps, i)][d]; }
    for (int d = 0; d < 2; d++) { ca[d] /= ps.n; cb[d] /= ps.n; }
    double sxx = 0, re = 0, im = 0, syy = 0;
    for (int i = 0; i < ps.n; i++) {
        int k = pidx(ps, i);
        double x = a->mesh[k][0] - ca[0], y = a->mesh[k][1] - ca[1], u = b->mesh[k][0] - cb[0], v = b->mesh[k][1] - cb[1];
        sxx += x * x + y * y;
        syy += u * u + v * v;
        re += u * x + v * y;   /* (u + iv)(x - iy) */
        im += v * x - u * y;
    }
    if (!(sxx > 0)) return 0;
    /* min over (re, im) scaling of sum |b - z a|^2 = syy - |sum b conj(a)|^2 / sxx */
    double e = syy - (re * re + im * im) / sxx;
    *rms = sqrt(fmax(e, 0) / ps.n);
    return 1;
}

/* Rotation matrix R <- exp([w]x) R (Rodrigues), kept orthonormal. */
static void rotate_by(double R[3][3], const double w[3]) {
    double th = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
    double E[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    if (th > 1e-15) {
        double k[3] = {w[0] / th, w[1] / th, w[2] / th}, c = cos(th), s = sin(th), C = 1 - c;
        E[0][0] = c + k[0] * k[0] * C;        E[0][1] = k[0] * k[1] * C - k[2] * s; E[0][2] = k[0] * k[2] * C + k[1] * s;
        E[1][0] = k[1] * k[0] * C + k[2] * s; E[1][1] = c + k[1] * k[1] * C;        E[1][2] = k[1] * k[2] * C - k[0] * s;
        E[2][0] = k[2] * k[0] * C - k[1] * s; E[2][1] = k[2] * k[1] * C + k[0] * s; E[2][2] = c + k[2] * k[2] * C;
    }
    double T[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) T[i][j] = E[i][0] * R[0][j] + E[i][1] * R[1][j] + E[i][2] * R[2][j];
    memcpy(R, T, sizeof T);
}

/* Scaled orthographic camera of a's 3-D mesh: b ~ s R[0:2] (A - mean) + t, R a rotation. The
 * affine camera (2x3, least squares) projected to the nearest scaled orthonormal rows starts a
 * Gauss-Newton on (rotation increment, s). */
static int fit_rigid(const vf_face_landmarks *a, const vf_face_landmarks *b, pset ps, double *rms) {
    double ca[3] = {0, 0, 0}, cb[2] = {0, 0};
    for (int i = 0; i < ps.n; i++) {
        int k = pidx(ps, i);
        for (int d = 0; d < 3; d++) ca[d] += a->mesh[k][d];
        for (int d = 0; d < 2; d++) cb[d] += b->mesh[k][d];
    }
    for (int d = 0; d < 3; d++) ca[d] /= ps.n;
    for (int d = 0; d < 2; d++) cb[d] /= ps.n;
#define PA(i, d) ((double)a->mesh[pidx(ps, i)][d] - ca[d])
#define QB(i, d) ((double)b->mesh[pidx(ps, i)][d] - cb[d])
    /* affine camera M = B C^-1, C = sum P P^T, B = sum q P^T; a ridge covers flat (z = 0) input */
    double C[3][3] = {{0}}, B[2][3] = {{0}};
    for (int i = 0; i < ps.n; i++)
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) C[r][c] += PA(i, r) * PA(i, c);
            for (int c = 0; c < 2; c++) B[c][r] += QB(i, c) * PA(i, r);
        }
    double tr = C[0][0] + C[1][1] + C[2][2];
    if (!(tr > 0)) return 0;
    for (int d = 0; d < 3; d++) C[d][d] += 1e-6 * tr;
    double det = C[0][0] * (C[1][1] * C[2][2] - C[1][2] * C[2][1]) - C[0][1] * (C[1][0] * C[2][2] - C[1][2] * C[2][0]) +
                 C[0][2] * (C[1][0] * C[2][1] - C[1][1] * C[2][0]);
    if (!(fabs(det) > 0)) return 0;
    double Ci[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
            Ci[r][c] = (C[r1][c1] * C[r2][c2] - C[r1][c2] * C[r2][c1]) / det;
        }
    double M[2][3];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++) M[r][c] = B[r][0] * Ci[0][c] + B[r][1] * Ci[1][c] + B[r][2] * Ci[2][c];
    /* nearest scaled orthonormal rows: polar factor (M M^T)^-1/2 M, s = mean singular value */
    double g00 = M[0][0] * M[0][0] + M[0][1] * M[0][1] + M[0][2] * M[0][2];
    double g11 = M[1][0] * M[1][0] + M[1][1] * M[1][1] + M[1][2] * M[1][2];
    double g01 = M[0][0] * M[1][0] + M[0][1] * M[1][1] + M[0][2] * M[1][2];
    double half = 0.5 * (g00 + g11), dd = sqrt(0.25 * (g00 - g11) * (g00 - g11) + g01 * g01);
    double l1 = half + dd, l2 = half - dd;
    if (!(l2 > 1e-12 * l1)) return 0;
    double e1[2];   /* eigenvector of l1 */
    if (fabs(g01) > 1e-15 * l1) { e1[0] = g01; e1[1] = l1 - g00; }
    else if (g00 >= g11) { e1[0] = 1; e1[1] = 0; }
    else { e1[0] = 0; e1[1] = 1; }
    double n1 = hypot(e1[0], e1[1]);
    e1[0] /= n1; e1[1] /= n1;
    double e2[2] = {-e1[1], e1[0]}, i1 = 1 / sqrt(l1), i2 = 1 / sqrt(l2);
    double W[2][2];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) W[r][c] = i1 * e1[r] * e1[c] + i2 * e2[r] * e2[c];
    double R[3][3], s = 0.5 * (sqrt(l1) + sqrt(l2));
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++) R[r][c] = W[r][0] * M[0][c] + W[r][1] * M[1][c];
    R[2][0] = R[0][1] * R[1][2] - R[0][2] * R[1][1];
    R[2][1] = R[0][2] * R[1][0] - R[0][0] * R[1][2];
    R[2][2] = R[0][0] * R[1][1] - R[0][1] * R[1][0];
    /* Gauss-Newton on r_i = q_i - s (R P_i)[0:2]; R <- exp([w]x) R: dr/dw = s [u]x rows 0, 1 */
    double e = 0;
    for (int it = 0; it < 12; it++) {
        double JJ[4][4] = {{0}}, Jr[4] = {0};
        e = 0;
        for (int i = 0; i < ps.n; i++) {
            double P[3] = {PA(i, 0), PA(i, 1), PA(i, 2)}, u[3];
            for (int r = 0; r < 3; r++) u[r] = R[r][0] * P[0] + R[r][1] * P[1] + R[r][2] * P[2];
            double rx = QB(i, 0) - s * u[0], ry = QB(i, 1) - s * u[1];
            e += rx * rx + ry * ry;
            const double jx[4] = {0, -s * u[2], s * u[1], -u[0]};
            const double jy[4] = {s * u[2], 0, -s * u[0], -u[1]};
            for (int p = 0; p < 4; p++) {
                Jr[p] += jx[p] * rx + jy[p] * ry;
                for (int q = 0; q < 4; q++) JJ[p][q] += jx[p] * jx[q] + jy[p] * jy[q];
            }
        }
        double nb[4] = {-Jr[0], -Jr[1], -Jr[2], -Jr[3]}, d[4];
        if (!solve_spd(4, JJ, nb, d)) break;
        rotate_by(R, d);
        s += d[3];
        if (fabs(d[0]) + fabs(d[1]) + fabs(d[2]) < 1e-10 && fabs(d[3]) < 1e-10 * fabs(s)) break;
    }
    /* the residual of the final parameters */
    e = 0;
    for (int i = 0; i < ps.n; i++) {
        double P[3] = {PA(i, 0), PA(i, 1), PA(i, 2)};
        double rx = QB(i, 0) - s * (R[0][0] * P[0] + R[0][1] * P[1] + R[0][2] * P[2]);
        double ry = QB(i, 1) - s * (R[1][0] * P[0] + R[1][1] * P[1] + R[1][2] * P[2]);
        e += rx * rx + ry * ry;
    }
#undef PA
#undef QB
    *rms = sqrt(e / ps.n);
    return isfinite(*rms);
}

/* ---- public ------------------------------------------------------------------------------------ */

static float pose_dist(const float pa[2], const float pb[2]) { return hypotf(pa[0] - pb[0], pa[1] - pb[1]); }

static int pair_fit(const vf_face_landmarks *a, const vf_face_landmarks *b, pset ps, vf_planarity_pair *out) {
    double h, r, s, iod = 0.5 * (iod3(a) + iod3(b));
    if (!fit_homography(a, b, ps, &h) || !fit_rigid(a, b, ps, &r) || !fit_similarity(a, b, ps, &s)) return 0;
    out->homography = (float)(h / iod);
    out->rigid = (float)(r / iod);
    out->similarity = (float)(s / iod);
    /* below the landmark noise (~0.01) nothing deformed: the difference is noise, kept near 0 */
    out->score = (out->homography - out->rigid) / fmaxf(out->similarity, MIN_MOTION);
    return 1;
}

vf_status vf_planarity_pair_fit(vf_context *ctx, const vf_face_landmarks *a, const vf_face_landmarks *b,
                                vf_planarity_points points, vf_planarity_pair *out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: NULL result");
    memset(out, 0, sizeof *out);
    if (!a || !b) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: NULL landmarks");
    if ((unsigned)points > VF_PLANARITY_POINTS_ALL) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: bad point set %d", (int)points);
    if (!frame_ok(a) || !frame_ok(b))
        return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: landmarks not finite or degenerate (no inter-ocular distance)");
    if (!pair_fit(a, b, point_set(points), out))
        return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: degenerate point configuration (points on a line)");
    float pa[2] = {a->yaw, a->pitch}, pb[2] = {b->yaw, b->pitch};
    out->pose = isfinite(pose_dist(pa, pb)) ? pose_dist(pa, pb) : 0;
    return VF_OK;
}

static float median(float *v, int n) {   /* insertion sort: n <= 120 */
    for (int i = 1; i < n; i++) {
        float x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

vf_status vf_planarity_score(vf_context *ctx, const vf_face_landmarks *frames, int n, const float (*pose)[2],
                             const vf_planarity_config *cfg, vf_planarity_result *out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: NULL result");
    memset(out, 0, sizeof *out);
    out->outcome = VF_PLANARITY_UNKNOWN;
    if (!frames) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: NULL frames");
    if (n < 2 || n > VF_PLANARITY_MAX_FRAMES)
        return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: %d frames (2..%d)", n, VF_PLANARITY_MAX_FRAMES);
    vf_planarity_config c = cfg ? *cfg : vf_planarity_default_config();
    if ((unsigned)c.points > VF_PLANARITY_POINTS_ALL || !isfinite(c.threshold) || !(c.min_pose >= 0 && c.min_pose < 360) ||
        c.min_pairs < 1)
        return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: bad configuration (threshold %g, min_pose %g, min_pairs %d, points %d)",
                        c.threshold, c.min_pose, c.min_pairs, (int)c.points);
    out->frames = n;
    /* evenly spaced frames when there are more than we fit (first and last always) */
    int m = n < VF_PLANARITY_FIT_FRAMES ? n : VF_PLANARITY_FIT_FRAMES, sel[VF_PLANARITY_FIT_FRAMES];
    float pz[VF_PLANARITY_FIT_FRAMES][2];
    float ymin = INFINITY, ymax = -INFINITY, pmin = INFINITY, pmax = -INFINITY;
    for (int i = 0; i < m; i++) {
        sel[i] = m == n ? i : (int)((long)i * (n - 1) / (m - 1));
        const vf_face_landmarks *f = &frames[sel[i]];
        pz[i][0] = pose ? pose[sel[i]][0] : f->yaw;
        pz[i][1] = pose ? pose[sel[i]][1] : f->pitch;
        if (!frame_ok(f)) return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: frame %d: landmarks not finite or degenerate", sel[i]);
        if (!isfinite(pz[i][0]) || !isfinite(pz[i][1]))
            return vf__fail(ctx, VF_E_INVALID_ARG, "planarity: frame %d: yaw/pitch not finite", sel[i]);
        ymin = fminf(ymin, pz[i][0]); ymax = fmaxf(ymax, pz[i][0]);
        pmin = fminf(pmin, pz[i][1]); pmax = fmaxf(pmax, pz[i][1]);
    }
    out->fitted_frames = m;
    out->yaw_range = ymax - ymin;
    out->pitch_range = pmax - pmin;
    pset ps = point_set(c.points);
    enum { MAX_PAIRS = VF_PLANARITY_FIT_FRAMES * (VF_PLANARITY_FIT_FRAMES - 1) / 2 };
    float sc[MAX_PAIRS], hr[MAX_PAIRS], rr[MAX_PAIRS], sr[MAX_PAIRS];
    int np = 0;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) {
            float d = pose_dist(pz[i], pz[j]);
            out->pose_range = fmaxf(out->pose_range, d);
            if (d < c.min_pose) continue;
            vf_planarity_pair p;
            if (!pair_fit(&frames[sel[i]], &frames[sel[j]], ps, &p)) continue;
            sc[np] = p.score;
            hr[np] = p.homography;
            rr[np] = p.rigid;
            sr[np] = p.similarity;
            np++;
        }
    out->pairs = np;
    if (np == 0) return VF_OK;
    out->score = median(sc, np);
    out->homography = median(hr, np);
    out->rigid = median(rr, np);
    out->motion = median(sr, np);
    if (np >= c.min_pairs) out->outcome = out->score >= c.threshold ? VF_PLANARITY_3D : VF_PLANARITY_FLAT;
    return VF_OK;
}
