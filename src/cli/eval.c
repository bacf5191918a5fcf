/* eval.c - `veriface eval-pad`: passive liveness on a labelled set, with our own detector boxes.
 *
 * Metrics follow ISO/IEC 30107-3: APCER = share of attack presentations accepted as bona fide
 * (reported per attack type), BPCER = share of bona fide presentations rejected, ACER their mean;
 * EER where APCER and BPCER cross when the threshold sweeps the observed scores. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096

typedef struct row { char image[256], label[16], attack[32]; float score; int ok; } row;

/* First three comma-separated fields of a CSV line (our label files do not quote them). */
static int split3(char *line, char **a, char **b, char **c) {
    *a = strtok(line, ",\r\n");
    *b = *a ? strtok(NULL, ",\r\n") : NULL;
    *c = *b ? strtok(NULL, ",\r\n") : NULL;
    return *c ? 0 : -1;
}

static int cmp_float(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

/* Error rates at threshold t (accept as live when score >= t). */
static void rates(const row *r, int n, float t, const char *attack, double *apcer, double *bpcer) {
    int na = 0, aa = 0, nb = 0, rb = 0;
    for (int i = 0; i < n; i++) {
        if (!r[i].ok) continue;
        if (!strcmp(r[i].label, "live")) { nb++; rb += r[i].score < t; }
        else if (!attack || !strcmp(r[i].attack, attack)) { na++; aa += r[i].score >= t; }
    }
    *apcer = na ? (double)aa / na : 0;
    *bpcer = nb ? (double)rb / nb : 0;
}

/* ROC AUC of the live score: P(live score > attack score), ties count half. */
static double pad_auc(const row *r, int n) {
    double wins = 0;
    long pairs = 0;
    for (int i = 0; i < n; i++) {
        if (!r[i].ok || strcmp(r[i].label, "live")) continue;
        for (int j = 0; j < n; j++) {
            if (!r[j].ok || !strcmp(r[j].label, "live")) continue;
            wins += r[i].score > r[j].score ? 1.0 : r[i].score == r[j].score ? 0.5 : 0.0;
            pairs++;
        }
    }
    return pairs ? wins / (double)pairs : 0;
}

/* Metrics at threshold t, overall and per attack type found in the rows. */
static void print_at(const row *r, int n, const char *name, float t) {
    double apcer, bpcer, worst = 0;
    rates(r, n, t, NULL, &apcer, &bpcer);
    printf("\"%s\":{\"threshold\":%.4f,\"bpcer\":%.4f,\"apcer\":%.4f,\"per_attack\":{", name, t, bpcer, apcer);
    const char *seen[16];
    int n_seen = 0;
    for (int i = 0; i < n; i++) {
        if (!r[i].ok || !strcmp(r[i].label, "live")) continue;
        int k = 0;
        while (k < n_seen && strcmp(seen[k], r[i].attack)) k++;
        if (k < n_seen || n_seen == 16) continue;
        seen[n_seen++] = r[i].attack;
        int na = 0;
        for (int j = 0; j < n; j++) na += r[j].ok && strcmp(r[j].label, "live") && !strcmp(r[j].attack, r[i].attack);
        double a, b;
        rates(r, n, t, r[i].attack, &a, &b);
        if (a > worst) worst = a;
        printf("%s\"%s\":{\"n\":%d,\"apcer\":%.4f,\"acer\":%.4f}", n_seen > 1 ? "," : "", r[i].attack, na, a, (a + bpcer) / 2);
    }
    /* ISO/IEC 30107-3 ACER uses the worst attack type's APCER */
    printf("},\"acer\":%.4f}", (worst + bpcer) / 2);
}

int vf_cli_eval_pad(vf_context *ctx, const char *models_dir, const char *pad_models_dir, const char *labels,
                    const char *box_mode, int n_scales, float threshold) {
    vf_cli_models M;
    if (vf_cli_models_load(ctx, models_dir, pad_models_dir, &M)) return 2;
    if (!M.live.v2 || !M.live.v1se) {
        fprintf(stderr, "veriface: MiniFASNet not found in %s: %s\n", pad_models_dir, vf_status_string(VF_E_NO_MODEL));
        vf_cli_models_free(&M);
        return 2;
    }
    FILE *f = fopen(labels, "r");
    if (!f) { fprintf(stderr, "veriface: cannot open %s\n", labels); vf_cli_models_free(&M); return 2; }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", labels);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else strcpy(dir, ".");
    static row rows[MAX_ROWS];
    int n = 0, no_face = 0;
    char line[2048];
    if (!fgets(line, sizeof line, f)) line[0] = 0; /* header */
    while (n < MAX_ROWS && fgets(line, sizeof line, f)) {
        char *img_path, *label, *attack;
        if (split3(line, &img_path, &label, &attack)) continue;
        row *r = &rows[n++];
        snprintf(r->image, sizeof r->image, "%s", img_path);
        snprintf(r->label, sizeof r->label, "%s", label);
        snprintf(r->attack, sizeof r->attack, "%s", attack);
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, img_path);
        vf_cli_face face;
        int rc = vf_cli_analyze_file(ctx, &M, path, box_mode, n_scales, &face);
        if (rc != 0) { no_face++; printf("{\"image\":\"%s\",\"label\":\"%s\",\"face\":false}\n", r->image, r->label); continue; }
        r->score = face.live.live;
        r->ok = 1;
        printf("{\"image\":\"%s\",\"label\":\"%s\",\"attack\":\"%s\",\"live\":%.4f,\"v2\":%.4f,\"v1se\":%.4f}\n", r->image,
               r->label, r->attack, face.live.live, face.live.v2, face.live.v1se);
    }
    fclose(f);
    /* EER: sweep every observed score as a threshold; keep the point where |APCER - BPCER| is least */
    float *ts = malloc(sizeof *ts * (size_t)(n + 1));
    int nt = 0;
    for (int i = 0; i < n; i++) if (rows[i].ok) ts[nt++] = rows[i].score;
    qsort(ts, (size_t)nt, sizeof *ts, cmp_float);
    double best_gap = 2, eer = 1, eer_t = 0.5;
    for (int i = 0; i < nt; i++) {
        double a, b;
        rates(rows, n, ts[i], NULL, &a, &b);
        if (fabs(a - b) < best_gap) { best_gap = fabs(a - b); eer = (a + b) / 2; eer_t = ts[i]; }
    }
    free(ts);
    int nl = 0, ns = 0;
    for (int i = 0; i < n; i++) if (rows[i].ok) { if (!strcmp(rows[i].label, "live")) nl++; else ns++; }
    vf_session_config sc = vf_session_default_config();
    printf("{\"summary\":true,\"box\":\"%s\",\"crops\":%d,\"images\":%d,\"no_face\":%d,\"live\":%d,\"spoof\":%d,"
           "\"auc\":%.4f,\"eer\":%.4f,\"eer_threshold\":%.4f,",
           box_mode, 2 * n_scales, n, no_face, nl, ns, pad_auc(rows, n), eer, eer_t);
    /* the requested threshold, then the session's pass and fail thresholds */
    print_at(rows, n, "at_threshold", threshold);
    printf(",");
    print_at(rows, n, "at_session_pass", sc.live_pass);
    printf(",");
    print_at(rows, n, "at_session_fail", sc.live_fail);
    printf("}\n");
    vf_cli_models_free(&M);
    return 0;
}

/* ---- eval-match ----------------------------------------------------------------------------- */

#define MAX_IMAGES 1024
#define MAX_PAIRS 16384

typedef struct pair { int a, b, same; float sim; } pair;

static int image_index(char names[][256], int *n, const char *name) {
    for (int i = 0; i < *n; i++) if (!strcmp(names[i], name)) return i;
    if (*n == MAX_IMAGES) return -1;
    snprintf(names[*n], 256, "%s", name);
    return (*n)++;
}

static int cmp_desc(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return a > b ? -1 : a < b;
}

/* TMR at the threshold that lets at most floor(fmr * impostors) impostor pairs through. */
static double tmr_at(const pair *p, int n, const float *imp_sorted_desc, int n_imp, double fmr, float *thr) {
    int allowed = (int)floor(fmr * n_imp);
    *thr = allowed < n_imp ? imp_sorted_desc[allowed] : -1.0f; /* accept sim > thr */
    int gen = 0, acc = 0;
    for (int i = 0; i < n; i++) if (p[i].same && p[i].sim >= -1) { gen++; acc += p[i].sim > *thr; }
    return gen ? (double)acc / gen : 0;
}

int vf_cli_eval_match(vf_context *ctx, const char *models_dir, const char *pairs_csv, const char *embed_name, float lo, float hi) {
    vf_cli_models M;
    if (vf_cli_models_load(ctx, models_dir, models_dir, &M)) return 2;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.vfm", models_dir, embed_name);
    vf_model *em = vf_cli_load_model(ctx, p, 0);
    FILE *f = em ? fopen(pairs_csv, "r") : NULL;
    if (!f) { if (em) fprintf(stderr, "veriface: cannot open %s\n", pairs_csv); vf_model_free(em); vf_cli_models_free(&M); return 2; }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", pairs_csv);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else strcpy(dir, ".");
    static char names[MAX_IMAGES][256]; /* paths relative to the CSV */
    static pair pairs[MAX_PAIRS];
    static float emb[MAX_IMAGES][VF_EMBED_MAX_DIM];
    static int have[MAX_IMAGES];
    int n_img = 0, n = 0, dim = 0;
    char line[2048];
    fgets(line, sizeof line, f);
    while (n < MAX_PAIRS && fgets(line, sizeof line, f)) {
        char *a, *b, *same;
        if (split3(line, &a, &b, &same)) continue;
        int ia = image_index(names, &n_img, a), ib = image_index(names, &n_img, b);
        if (ia < 0 || ib < 0) break;
        pairs[n].a = ia; pairs[n].b = ib; pairs[n].same = atoi(same) == 1; n++;
    }
    fclose(f);
    int failed = 0;
    for (int i = 0; i < n_img; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%.1000s/%.255s", dir, names[i]);
        vf_cli_face face;
        /* landmarks need no PAD models: analyze returns 2 when liveness is absent, lm is filled */
        vf_cli_analyze_file(ctx, &M, path, "detector", 1, &face);
        have[i] = 0;
        if (face.n_faces > 0 && face.lm.presence > 0) {
            uint8_t *bytes = NULL;
            size_t nb = 0;
            FILE *fi = fopen(path, "rb");
            if (fi) {
                fseek(fi, 0, SEEK_END); long sz = ftell(fi); fseek(fi, 0, SEEK_SET);
                bytes = sz > 0 ? malloc((size_t)sz) : NULL;
                if (bytes && fread(bytes, 1, (size_t)sz, fi) == (size_t)sz) nb = (size_t)sz;
                fclose(fi);
            }
            vf_image_buffer buf;
            if (nb && vf_image_decode(ctx, bytes, nb, NULL, &buf, NULL) == VF_OK) {
                vf_image img = vf_image_buffer_view(&buf);
                have[i] = vf_embed_run(ctx, em, &img, face.lm.five, lo, hi, emb[i], &dim) == VF_OK;
                vf_image_buffer_free(&buf);
            }
            free(bytes);
        }
        if (!have[i]) failed++;
    }
    float *imp = malloc(sizeof *imp * (size_t)n);
    int n_imp = 0, n_gen = 0;
    for (int i = 0; i < n; i++) {
        pair *q = &pairs[i];
        q->sim = (have[q->a] && have[q->b]) ? vf_embed_similarity(emb[q->a], emb[q->b], dim) : -2.0f;
        if (q->sim < -1) continue;
        if (q->same) n_gen++; else imp[n_imp++] = q->sim;
    }
    qsort(imp, (size_t)n_imp, sizeof *imp, cmp_desc);
    /* ROC AUC = P(genuine similarity > impostor similarity), ties count half */
    double wins = 0;
    for (int i = 0; i < n; i++) {
        if (!pairs[i].same || pairs[i].sim < -1) continue;
        for (int k = 0; k < n_imp; k++) wins += pairs[i].sim > imp[k] ? 1.0 : pairs[i].sim == imp[k] ? 0.5 : 0.0;
    }
    float t1, t01;
    double tmr1 = tmr_at(pairs, n, imp, n_imp, 0.01, &t1), tmr01 = tmr_at(pairs, n, imp, n_imp, 0.001, &t01);
    double gmean = 0, imean = 0;
    for (int i = 0; i < n; i++) if (pairs[i].sim >= -1) { if (pairs[i].same) gmean += pairs[i].sim; else imean += pairs[i].sim; }
    printf("{\"summary\":true,\"model\":\"%s\",\"range\":[%g,%g],\"images\":%d,\"no_embedding\":%d,\"genuine_pairs\":%d,"
           "\"impostor_pairs\":%d,\"auc\":%.4f,\"tmr_at_fmr_1pct\":%.4f,\"threshold_fmr_1pct\":%.4f,\"tmr_at_fmr_0.1pct\":%.4f,"
           "\"threshold_fmr_0.1pct\":%.4f,\"genuine_mean\":%.4f,\"impostor_mean\":%.4f,\"impostor_max\":%.4f}\n",
           embed_name, lo, hi, n_img, failed, n_gen, n_imp, n_gen && n_imp ? wins / ((double)n_gen * n_imp) : 0, tmr1, t1,
           tmr01, t01, n_gen ? gmean / n_gen : 0, n_imp ? imean / n_imp : 0, n_imp ? imp[0] : 0);
    free(imp);
    vf_model_free(em);
    vf_cli_models_free(&M);
    return 0;
}
