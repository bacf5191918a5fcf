/* planarity_eval.c - measures vf_planarity_score (src/face/planarity.c) on three classes:
 *   real   windows of consecutive frames of a live person turning the head (real2.webm);
 *   replay the same windows of a phone replaying a video of him turning (fake2.webm);
 *   flat   stills (pad/, pad-multi/, real2 frames) rendered as a plane held in front of a
 *          640x480 pinhole camera (f = 550 px) and rotated in yaw, pitch or both over a range
 *          of 10..60 degrees with a small hand shake: prints, cut-outs, tablets being tilted.
 * Frames are extracted with ffmpeg into a temporary directory (deleted afterwards); each frame
 * goes through vf_detect_faces and vf_face_landmarks_run, then the windows are scored.
 * Native only. The tables of docs/PLANARITY.md come from this tool.
 *
 *   vf_planarity_eval MODELS_DIR DATA_DIR [options]
 *       --cache FILE        reuse / write the landmarks of every sequence (skips the models on reuse)
 *       --window N          only windows of N frames (default: 8, 16, 24 and 32), --step N (2)
 *       --threshold T, --min-pose DEG, --points inner|oval|all   the configuration scored
 *       --pair-table        pair-level residual medians and pair-score AUC per point set
 *       --pairs FILE        dump every pair (three fits x three point sets) for offline analysis
 *       --worst N           the N highest-scoring decided flat sequences
 *       --timeline          per-frame yaw/pitch of the two videos
 */
#define _GNU_SOURCE
#include "face/face.h"
#include "face/planarity.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plane_render.h"
#include "test_util.h"

#define FACE_W 210.0  /* face width in the rendered frames: an arm's length from a webcam */
#define SEQ_T 16      /* frames per synthetic sequence */
#define MAX_SEQ_FRAMES 400

typedef enum { C_REAL = 0, C_REPLAY = 1, C_FLAT = 2 } seq_class;
static const char *k_class[3] = {"real", "replay", "flat"};

typedef struct seq {
    char name[160];
    int cls;
    int axis;          /* flat: 0 yaw, 1 pitch, 2 both */
    float range;       /* flat: applied rotation range, degrees (max - min) */
    int n;             /* frames */
    unsigned char ok[MAX_SEQ_FRAMES];
    float applied[MAX_SEQ_FRAMES][2];  /* flat: the plane's yaw and pitch, degrees */
    vf_face_landmarks *lm;  /* n */
} seq;

static vf_context *g_ctx;
static vf_model *g_det, *g_mesh;
static seq *g_seq;
static int g_nseq, g_capseq;

static seq *seq_new(const char *name, int cls, int n) {
    if (g_nseq == g_capseq) {
        g_capseq = g_capseq ? 2 * g_capseq : 256;
        g_seq = realloc(g_seq, sizeof(seq) * g_capseq);
    }
    seq *s = &g_seq[g_nseq++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->cls = cls;
    s->n = n;
    s->lm = calloc((size_t)n, sizeof(vf_face_landmarks));
    return s;
}

/* ---- images -------------------------------------------------------------------------------- */

typedef struct img { int w, h; uint8_t *p; } img;   /* RGB8 packed */

static int decode(const uint8_t *b, size_t n, img *out) {
    out->p = test_decode_pixels(g_ctx, b, n, 3, &out->w, &out->h);
    return out->p ? 0 : -1;
}

static int load_image(const char *path, img *out) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    if (!b) return -1;
    int r = decode(b, n, out);
    free(b);
    return r;
}

static vf_image view(const img *a) { return (vf_image){a->w, a->h, (size_t)a->w * 3, VF_PIXEL_RGB8, a->p}; }

/* Largest face of the image -> landmarks; 0 when found. */
static int face_landmarks(const img *a, vf_face_landmarks *lm, vf_face_box *box_out) {
    vf_image v = view(a);
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int nf = 0;
    if (vf_detect_faces(g_ctx, g_det, &v, NULL, faces, &nf) || nf < 1) return -1;
    int best = 0;
    for (int i = 1; i < nf; i++)
        if ((faces[i].x1 - faces[i].x0) > (faces[best].x1 - faces[best].x0)) best = i;
    if (box_out) *box_out = faces[best];
    if (vf_face_landmarks_run(g_ctx, g_mesh, &v, &faces[best], lm)) return -1;
    return lm->presence > 0.5f ? 0 : -1;
}

/* ---- videos: ffmpeg into a temporary directory ----------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every frame of `video` at `fps`, landmarks into a new sequence; the PNGs are deleted. */
static seq *video_sequence(const char *video, const char *name, int cls, double fps) {
    char dir[] = "/tmp/vf_planarity_XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return NULL; }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ffmpeg -loglevel error -i '%s' -vf fps=%g '%s/%%04d.png'", video, fps, dir);
    if (system(cmd) != 0) { fprintf(stderr, "ffmpeg failed: %s\n", cmd); rmdir(dir); return NULL; }
    DIR *d = opendir(dir);
    char *names[MAX_SEQ_FRAMES];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && n < MAX_SEQ_FRAMES) names[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    seq *s = seq_new(name, cls, n);
    for (int i = 0; i < n; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        img a;
        if (load_image(p, &a) == 0) {
            s->ok[i] = face_landmarks(&a, &s->lm[i], NULL) == 0;
            free(a.p);
        }
        unlink(p);
        free(names[i]);
    }
    rmdir(dir);
    return s;
}

/* ---- flat attacks: a still as a rotating plane (plane_render.h) ------------------------------ */

static uint32_t g_rng = 12345;
static double urand(void) { g_rng = g_rng * 1664525u + 1013904223u; return (g_rng >> 8) / 16777216.0; }

static const float k_ranges[] = {10, 20, 30, 45, 60};
#define N_RANGES (int)(sizeof k_ranges / sizeof k_ranges[0])

/* The sequences of one still: 3 axes x N_RANGES, SEQ_T frames sweeping the tilt from -range/2 to
 * +range/2 (both: along the diagonal, yaw = pitch = tilt / sqrt 2), with a hand's drift of a few
 * pixels and 3% in distance. The face is scaled to FACE_W pixels. */
static void flat_sequences(const char *path, const char *name) {
    img a;
    if (load_image(path, &a)) { fprintf(stderr, "skip %s: cannot decode\n", name); return; }
    vf_face_landmarks lm;
    if (face_landmarks(&a, &lm, NULL)) { fprintf(stderr, "skip %s: no face\n", name); free(a.p); return; }
    double scale = FACE_W / (lm.box[2] - lm.box[0]), fx = 0.5 * (lm.box[0] + lm.box[2]), fy = 0.5 * (lm.box[1] + lm.box[3]);
    plane_img src = {a.w, a.h, a.p};
    for (int axis = 0; axis < 3; axis++)
        for (int r = 0; r < N_RANGES; r++) {
            char nm[160];
            snprintf(nm, sizeof nm, "%s/%s%.0f", name, axis == 0 ? "yaw" : axis == 1 ? "pitch" : "both", k_ranges[r]);
            seq *s = seq_new(nm, C_FLAT, SEQ_T);
            s->axis = axis;
            s->range = k_ranges[r];
            double ph = urand() * 6.283;
            for (int t = 0; t < SEQ_T; t++) {
                double ang = k_ranges[r] * ((double)t / (SEQ_T - 1) - 0.5);
                double yaw = axis == 0 ? ang : axis == 2 ? ang / sqrt(2.0) : 0, pitch = axis == 1 ? ang : axis == 2 ? ang / sqrt(2.0) : 0;
                double tx = 12 * sin(ph + 0.7 * t), ty = 8 * cos(ph + 0.5 * t), z = PLANE_FOCAL * (1 + 0.03 * sin(ph + 0.3 * t));
                plane_img o;
                plane_render(&src, scale, fx, fy, yaw, pitch, tx, ty, z, 3.0, &g_rng, &o);
                img oi = {o.w, o.h, o.p};
                s->ok[t] = face_landmarks(&oi, &s->lm[t], NULL) == 0;
                s->applied[t][0] = (float)yaw;
                s->applied[t][1] = (float)pitch;
                free(o.p);
            }
        }
    free(a.p);
}

/* Images of a labels.csv (first column, relative to its directory). */
static void flat_from_labels(const char *data, const char *sub) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s/labels.csv", data, sub);
    size_t n;
    char *csv = (char *)read_file(p, &n);
    if (!csv) return;
    char *save = NULL;
    int line = 0;
    for (char *l = strtok_r(csv, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        if (line == 0) continue;
        char *f[4] = {l, NULL, NULL, NULL};   /* image, label, attack_type */
        for (int k = 1; k < 4; k++) {
            f[k] = f[k - 1] ? strchr(f[k - 1], ',') : NULL;
            if (f[k]) *f[k]++ = 0;
        }
        if (!f[2]) continue;
        char path[4096], name[512];
        snprintf(path, sizeof path, "%s/%s/%s", data, sub, f[0]);
        snprintf(name, sizeof name, "%s:%s:%s", sub, strcmp(f[1], "live") ? f[2] : "live", f[0]);
        flat_sequences(path, name);
    }
    free(csv);
}

/* ---- cache ---------------------------------------------------------------------------------- */

#define CACHE_MAGIC 0x504C4E32u   /* "PLN2": bump when seq changes */

static int cache_write(const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint32_t magic = CACHE_MAGIC;
    fwrite(&magic, sizeof magic, 1, f);
    fwrite(&g_nseq, sizeof g_nseq, 1, f);
    for (int i = 0; i < g_nseq; i++) {
        fwrite(&g_seq[i], sizeof(seq), 1, f);
        fwrite(g_seq[i].lm, sizeof(vf_face_landmarks), (size_t)g_seq[i].n, f);
    }
    fclose(f);
    return 0;
}

static int cache_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int n = 0;
    uint32_t magic = 0;
    if (fread(&magic, sizeof magic, 1, f) != 1 || magic != CACHE_MAGIC || fread(&n, sizeof n, 1, f) != 1) {
        fclose(f);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        seq tmp;
        if (fread(&tmp, sizeof tmp, 1, f) != 1) break;
        seq *s = seq_new(tmp.name, tmp.cls, tmp.n);
        vf_face_landmarks *lm = s->lm;
        *s = tmp;
        s->lm = lm;
        if (fread(s->lm, sizeof(vf_face_landmarks), (size_t)s->n, f) != (size_t)s->n) { fclose(f); return -1; }
    }
    fclose(f);
    return g_nseq == n ? 0 : -1;
}

/* ---- scoring and tables ------------------------------------------------------------------------ */

typedef struct item {
    int cls, seq, given;    /* given: scored with the plane's applied pose instead of the mesh's */
    float applied;          /* flat: applied tilt range of the sequence; else -1 */
    vf_planarity_result r;
} item;

static item *g_items;
static int g_nitems, g_capitems;
static vf_planarity_config g_cfg;

static void score_frames(int si, const int *idx, int n, float applied, int given) {
    seq *s = &g_seq[si];
    vf_face_landmarks lm[VF_PLANARITY_MAX_FRAMES];
    float pose[VF_PLANARITY_MAX_FRAMES][2];
    int m = 0;
    for (int i = 0; i < n && m < VF_PLANARITY_MAX_FRAMES; i++)
        if (s->ok[idx[i]]) {
            pose[m][0] = s->applied[idx[i]][0];
            pose[m][1] = s->applied[idx[i]][1];
            lm[m++] = s->lm[idx[i]];
        }
    if (m < 2) return;
    if (g_nitems == g_capitems) {
        g_capitems = g_capitems ? 2 * g_capitems : 1024;
        g_items = realloc(g_items, sizeof(item) * g_capitems);
    }
    item *it = &g_items[g_nitems];
    it->cls = s->cls;
    it->seq = si;
    it->given = given;
    it->applied = applied;
    if (vf_planarity_score(g_ctx, lm, m, given ? (const float(*)[2])pose : NULL, &g_cfg, &it->r)) {
        fprintf(stderr, "%s: %s\n", s->name, vf_context_last_error(g_ctx));
        return;
    }
    g_nitems++;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* AUC of "pos scores higher than neg", ties half (sorted merge) */
static double auc(float *pos, int np, float *neg, int nn) {
    if (!np || !nn) return NAN;
    qsort(pos, (size_t)np, sizeof *pos, cmp_float);
    qsort(neg, (size_t)nn, sizeof *neg, cmp_float);
    double s = 0;
    int lo = 0, hi = 0;   /* neg[0..lo) < pos[i], neg[0..hi) <= pos[i] */
    for (int i = 0; i < np; i++) {
        while (lo < nn && neg[lo] < pos[i]) lo++;
        while (hi < nn && neg[hi] <= pos[i]) hi++;
        s += lo + 0.5 * (hi - lo);
    }
    return s / ((double)np * nn);
}

/* The range an item is binned by: real and replay windows by the pose range the mesh saw, flats
 * by the tilt range applied to the plane. */
static float item_range(const item *it) { return it->applied >= 0 ? it->applied : it->r.pose_range; }

/* flats: the applied ranges 10, 20, 30, 45, 60 fall one in each bin from the second on */
static const float k_bins[] = {0, 10, 15, 20, 30, 45, 60, 1000};
#define N_BINS (int)(sizeof k_bins / sizeof k_bins[0] - 1)

static int select_items(int cls, int given, float lo, float hi, int decided_only, float *v) {
    int n = 0;
    for (int i = 0; i < g_nitems; i++) {
        const item *it = &g_items[i];
        if (it->cls != cls || it->given != given) continue;
        float r = item_range(it);
        if (r < lo || r >= hi) continue;
        if (decided_only && it->r.outcome == VF_PLANARITY_UNKNOWN) continue;
        v[n++] = it->r.score;
    }
    return n;
}

static void outcome_table(int given) {
    printf("\n| class | range (deg) | n | unknown | flat | 3d | score min | median | max |\n|---|---|---|---|---|---|---|---|---|\n");
    float *v = malloc(sizeof(float) * (g_nitems + 1));
    for (int c = 0; c < 3; c++) {
        if (given && c != C_FLAT) continue;
        for (int b = -1; b < N_BINS; b++) {
            float lo = b < 0 ? 0 : k_bins[b], hi = b < 0 ? 1e9f : k_bins[b + 1];
            int cnt[3] = {0, 0, 0}, n = 0;
            for (int i = 0; i < g_nitems; i++) {
                const item *it = &g_items[i];
                float r = item_range(it);
                if (it->cls == c && it->given == given && r >= lo && r < hi) { cnt[it->r.outcome]++; n++; }
            }
            if (!n) continue;
            int m = select_items(c, given, lo, hi, 1, v);
            qsort(v, (size_t)m, sizeof *v, cmp_float);
            char rg[32];
            if (b < 0) snprintf(rg, sizeof rg, "all");
            else snprintf(rg, sizeof rg, "%.0f-%.0f", lo, hi > 999 ? 999 : hi);
            if (m) printf("| %s | %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", k_class[c], rg, n, cnt[0], cnt[2], cnt[1], v[0], v[m / 2], v[m - 1]);
            else printf("| %s | %s | %d | %d | %d | %d | - | - | - |\n", k_class[c], rg, n, cnt[0], cnt[2], cnt[1]);
        }
    }
    free(v);
}

static void separation(int given) {
    float *pos = malloc(sizeof(float) * (g_nitems + 1)), *neg = malloc(sizeof(float) * (g_nitems + 1)),
          *rep = malloc(sizeof(float) * (g_nitems + 1));
    int np = select_items(C_REAL, 0, 0, 1e9f, 1, pos), nn = select_items(C_FLAT, given, 0, 1e9f, 1, neg);
    int nr = select_items(C_REPLAY, 0, 0, 1e9f, 1, rep);
    int nflat = select_items(C_FLAT, given, 0, 1e9f, 0, rep + nr);   /* count only */
    nr = select_items(C_REPLAY, 0, 0, 1e9f, 1, rep);
    printf("\nAUC (decided sequences, score): real vs flat%s %.4f (%d vs %d)\n", given ? " (applied pose)" : "", auc(pos, np, neg, nn), np, nn);
    printf("| threshold | real windows FLAT | flat decided 3D | flat 3D of all flat | replay windows 3D |\n|---|---|---|---|---|\n");
    for (int k = 0; k <= 8; k++) {
        float th = 0.05f * k;
        int fr = 0, fa = 0, rp = 0;
        for (int i = 0; i < np; i++) fr += pos[i] < th;
        for (int i = 0; i < nn; i++) fa += neg[i] >= th;
        for (int i = 0; i < nr; i++) rp += rep[i] >= th;
        printf("| %.2f%s | %d/%d | %d/%d | %d/%d (%.2f%%) | %d/%d |\n", th, fabsf(th - g_cfg.threshold) < 1e-4f ? " (default)" : "", fr, np,
               fa, nn, fa, nflat, 100.0 * fa / (nflat ? nflat : 1), rp, nr);
    }
    free(pos);
    free(neg);
    free(rep);
}

/* Every pair of every sequence (videos: up to 32 frames apart) with the three fits on the three
 * point sets, for the measurements of docs/PLANARITY.md. */
static void dump_pairs(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "cls seq i j applied pose dyaw dpitch h_in r_in s_in h_oval r_oval s_oval h_all r_all s_all\n");
    for (int si = 0; si < g_nseq; si++) {
        seq *s = &g_seq[si];
        for (int i = 0; i < s->n; i++)
            for (int j = i + 1; j < s->n && (s->cls == C_FLAT || j - i <= 32); j++) {
                if (!s->ok[i] || !s->ok[j]) continue;
                float applied = s->cls == C_FLAT ? s->range * (float)(j - i) / (s->n - 1) : -1;
                vf_planarity_pair p[3];
                int bad = 0;
                for (int k = 0; k < 3; k++) bad |= vf_planarity_pair_fit(g_ctx, &s->lm[i], &s->lm[j], (vf_planarity_points)k, &p[k]) != VF_OK;
                if (bad) continue;
                fprintf(f, "%d %d %d %d %.1f %.2f %.2f %.2f", s->cls, si, i, j, applied, p[0].pose, s->lm[j].yaw - s->lm[i].yaw,
                        s->lm[j].pitch - s->lm[i].pitch);
                for (int k = 0; k < 3; k++) fprintf(f, " %.5f %.5f %.5f", p[k].homography, p[k].rigid, p[k].similarity);
                fprintf(f, "\n");
            }
    }
    fclose(f);
    char np[4096];
    snprintf(np, sizeof np, "%s.names", path);
    if ((f = fopen(np, "w"))) {
        for (int si = 0; si < g_nseq; si++) fprintf(f, "%s\n", g_seq[si].name);
        fclose(f);
    }
}

/* Pair level: residual medians by pose difference (the mesh's for real and replay, the applied
 * tilt for flats, with the mesh's own pose difference alongside) for the three point sets; and
 * the pair score's AUC real vs flat over pairs at least 15 degrees apart (mesh pose). */
static float medf(float *v, int n) {
    if (!n) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return v[n / 2];
}

static void pair_table(void) {
    static const float pb[] = {0, 5, 10, 15, 20, 30, 45, 61};
    enum { NB = 7, NV = 11 };   /* mesh pose, h/r/s x 3 sets, pair score (inner) */
    int cap = 1 << 20, cnt[3][NB] = {{0}};
    float *v[3][NB][NV];
    for (int c = 0; c < 3; c++)
        for (int b = 0; b < NB; b++)
            for (int k = 0; k < NV; k++) v[c][b][k] = malloc(sizeof(float) * cap);
    float *ps[3][3];   /* pair score per class and point set, pairs >= 15 degrees apart (mesh) */
    int nps[3][3] = {{0}};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++) ps[c][k] = malloc(sizeof(float) * cap);
    for (int si = 0; si < g_nseq; si++) {
        seq *s = &g_seq[si];
        for (int i = 0; i < s->n; i++)
            for (int j = i + 1; j < s->n && (s->cls == C_FLAT || j - i <= 32); j++) {
                if (!s->ok[i] || !s->ok[j]) continue;
                vf_planarity_pair p[3];
                int bad = 0;
                for (int k = 0; k < 3; k++) bad |= vf_planarity_pair_fit(g_ctx, &s->lm[i], &s->lm[j], (vf_planarity_points)k, &p[k]) != VF_OK;
                if (bad) continue;
                float d = s->cls == C_FLAT ? hypotf(s->applied[j][0] - s->applied[i][0], s->applied[j][1] - s->applied[i][1]) : p[0].pose;
                int b = 0;
                while (b + 1 < NB && d >= pb[b + 1]) b++;
                int n = cnt[s->cls][b];
                if (n < cap) {
                    v[s->cls][b][0][n] = p[0].pose;
                    for (int k = 0; k < 3; k++) {
                        v[s->cls][b][1 + 3 * k][n] = p[k].homography;
                        v[s->cls][b][2 + 3 * k][n] = p[k].rigid;
                        v[s->cls][b][3 + 3 * k][n] = p[k].similarity;
                    }
                    v[s->cls][b][10][n] = p[0].score;
                    cnt[s->cls][b]++;
                }
                if (p[0].pose >= 15)
                    for (int k = 0; k < 3; k++)
                        if (nps[s->cls][k] < cap) ps[s->cls][k][nps[s->cls][k]++] = p[k].score;
            }
    }
    printf("pair medians, inter-ocular units (flat: binned by the applied tilt difference; mesh = the mesh's own pose difference)\n");
    printf("| class | pose diff | pairs | mesh pose | h inner | r inner | s inner | h oval | r oval | s oval | h all | r all | s all | score inner |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < 3; c++)
        for (int b = 0; b < NB; b++) {
            if (!cnt[c][b]) continue;
            printf("| %s | %.0f-%.0f | %d", k_class[c], pb[b], pb[b + 1], cnt[c][b]);
            for (int k = 0; k < NV; k++) printf(k == 0 ? " | %.1f" : " | %.3f", medf(v[c][b][k], cnt[c][b]));
            printf(" |\n");
        }
    static const char *set[3] = {"inner", "oval", "all"};
    for (int k = 0; k < 3; k++)
        printf("pair score AUC, pairs >= 15 deg apart (mesh pose), %s points: real vs flat %.4f (%d vs %d), replay vs flat %.4f\n", set[k],
               auc(ps[C_REAL][k], nps[C_REAL][k], ps[C_FLAT][k], nps[C_FLAT][k]), nps[C_REAL][k], nps[C_FLAT][k],
               auc(ps[C_REPLAY][k], nps[C_REPLAY][k], ps[C_FLAT][k], nps[C_FLAT][k]));
    for (int c = 0; c < 3; c++) {
        for (int b = 0; b < NB; b++)
            for (int k = 0; k < NV; k++) free(v[c][b][k]);
        for (int k = 0; k < 3; k++) free(ps[c][k]);
    }
}

static void timeline(void) {
    for (int i = 0; i < g_nseq; i++) {
        seq *s = &g_seq[i];
        if (s->cls == C_FLAT) continue;
        printf("# %s\n", s->name);
        for (int t = 0; t < s->n; t++)
            printf("%3d %s yaw %6.1f pitch %6.1f roll %6.1f\n", t, s->ok[t] ? "ok" : "--", s->lm[t].yaw, s->lm[t].pitch, s->lm[t].roll);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: vf_planarity_eval MODELS_DIR DATA_DIR [--cache FILE] [--window N] [--step N] [--min-pose DEG]\n"
                        "       [--threshold T] [--points inner|oval|all] [--timeline] [--pairs FILE] [--pair-table] [--worst N]\n");
        return 2;
    }
    const char *cache = NULL, *pairs = NULL;
    int window = 0, step = 2, show_timeline = 0, worst = 0, pair_tab = 0;
    g_cfg = vf_planarity_default_config();
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
        else if (!strcmp(argv[i], "--window") && i + 1 < argc) window = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--step") && i + 1 < argc) step = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-pose") && i + 1 < argc) g_cfg.min_pose = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) g_cfg.threshold = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--worst") && i + 1 < argc) worst = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeline")) show_timeline = 1;
        else if (!strcmp(argv[i], "--pair-table")) pair_tab = 1;
        else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) pairs = argv[++i];
        else if (!strcmp(argv[i], "--points") && i + 1 < argc) {
            i++;
            g_cfg.points = !strcmp(argv[i], "oval") ? VF_PLANARITY_POINTS_OVAL : !strcmp(argv[i], "all") ? VF_PLANARITY_POINTS_ALL : VF_PLANARITY_POINTS_INNER;
        } else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if ((window && (window < 2 || window > VF_PLANARITY_MAX_FRAMES)) || step < 1) { fprintf(stderr, "bad --window/--step\n"); return 2; }
    vf_context_create(NULL, &g_ctx);
    if (!cache || cache_read(cache)) {
        char p[2048];
        size_t n;
        snprintf(p, sizeof p, "%s/blazeface-front.vfm", argv[1]);
        uint8_t *b = read_file(p, &n);
        if (!b || vf_model_load(g_ctx, b, n, NULL, &g_det)) { fprintf(stderr, "cannot load %s\n", p); return 1; }
        free(b);
        snprintf(p, sizeof p, "%s/facemesh.vfm", argv[1]);
        b = read_file(p, &n);
        if (!b || vf_model_load(g_ctx, b, n, NULL, &g_mesh)) { fprintf(stderr, "cannot load %s\n", p); return 1; }
        free(b);
        const char *data = argv[2];
        snprintf(p, sizeof p, "%s/video/apfol_liveness/real2.webm", data);
        if (!video_sequence(p, "real2", C_REAL, 15)) return 1;
        snprintf(p, sizeof p, "%s/video/apfol_liveness/fake2.webm", data);
        if (!video_sequence(p, "fake2", C_REPLAY, 15)) return 1;
        fprintf(stderr, "videos done\n");
        flat_from_labels(data, "pad");
        flat_from_labels(data, "pad-multi");
        static const char *times[] = {"00.50", "01.69", "02.87", "04.06", "05.25", "06.43", "07.62", "08.80", "09.99", "11.18"};
        for (int t = 0; t < 10; t++) {
            char name[64];
            snprintf(p, sizeof p, "%s/pad/apfol_liveness/frames/real2_t%s.jpg", data, times[t]);
            snprintf(name, sizeof name, "real2-still:live:t%s", times[t]);
            flat_sequences(p, name);
        }
        if (cache) cache_write(cache);
    }
    if (show_timeline) timeline();
    if (pairs) { dump_pairs(pairs); return 0; }
    if (pair_tab) { pair_table(); return 0; }
    /* windows of the videos (lengths 8..32 frames, every `step` frames), whole synthetic sequences
     * (twice: with the mesh's pose and with the plane's applied pose) */
    int frames[3] = {0, 0, 0}, okf[3] = {0, 0, 0};
    const int windows[] = {8, 16, 24, 32};
    for (int si = 0; si < g_nseq; si++) {
        seq *s = &g_seq[si];
        int idx[MAX_SEQ_FRAMES];
        for (int t = 0; t < s->n; t++) { frames[s->cls]++; okf[s->cls] += s->ok[t]; }
        if (s->cls == C_FLAT) {
            for (int t = 0; t < s->n; t++) idx[t] = t;
            score_frames(si, idx, s->n, s->range, 0);
            score_frames(si, idx, s->n, s->range, 1);
            continue;
        }
        for (int w = 0; w < (int)(sizeof windows / sizeof windows[0]); w++) {
            int len = window ? window : windows[w];
            for (int t0 = 0; t0 + len <= s->n; t0 += step) {
                for (int t = 0; t < len; t++) idx[t] = t0 + t;
                score_frames(si, idx, len, -1, 0);
            }
            if (window) break;
        }
    }
    printf("config: threshold %.2f, min_pose %.1f deg, min_pairs %d, points %s; videos at 15 fps, windows of %s frames every %d\n",
           g_cfg.threshold, g_cfg.min_pose, g_cfg.min_pairs, g_cfg.points == VF_PLANARITY_POINTS_INNER ? "inner" : g_cfg.points == VF_PLANARITY_POINTS_OVAL ? "oval" : "all",
           window ? "the given number of" : "8, 16, 24 and 32", step);
    for (int c = 0; c < 3; c++) printf("%s: %d frames, face + mesh on %d\n", k_class[c], frames[c], okf[c]);
    printf("\nOutcomes (real/replay binned by the mesh's pose range in the window, flat by the applied tilt range):");
    outcome_table(0);
    separation(0);
    printf("\nFlat sequences scored with the plane's applied pose (as if a tracker gave the true rotation):");
    outcome_table(1);
    separation(1);
    if (worst > 0) {   /* the flat sequences closest to passing */
        printf("\nhighest-scoring decided flat sequences:\n");
        for (int k = 0; k < worst; k++) {
            int best = -1;
            for (int i = 0; i < g_nitems; i++) {
                item *it = &g_items[i];
                if (it->cls != C_FLAT || it->given || it->r.outcome == VF_PLANARITY_UNKNOWN || it->seq < 0) continue;
                if (best < 0 || it->r.score > g_items[best].r.score) best = i;
            }
            if (best < 0) break;
            item *it = &g_items[best];
            printf("  %.3f %s: pairs %d, pose range %.1f, h %.3f r %.3f motion %.3f\n", it->r.score, g_seq[it->seq].name, it->r.pairs,
                   it->r.pose_range, it->r.homography, it->r.rigid, it->r.motion);
            it->seq = -1 - it->seq;   /* listed */
        }
    }
    return 0;
}
