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

int vf_cli_eval_pad(vf_context *ctx, const char *models_dir, const char *pad_models_dir, const char *labels,
                    const char *box_mode, float threshold) {
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
    fgets(line, sizeof line, f); /* header */
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
        int rc = vf_cli_analyze_file(ctx, &M, path, box_mode, &face);
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
    double apcer, bpcer, ap_replay, ap_print, bp;
    rates(rows, n, threshold, NULL, &apcer, &bpcer);
    rates(rows, n, threshold, "replay", &ap_replay, &bp);
    rates(rows, n, threshold, "print", &ap_print, &bp);
    int nl = 0, ns = 0;
    for (int i = 0; i < n; i++) if (rows[i].ok) { if (!strcmp(rows[i].label, "live")) nl++; else ns++; }
    printf("{\"summary\":true,\"box\":\"%s\",\"images\":%d,\"no_face\":%d,\"live\":%d,\"spoof\":%d,\"eer\":%.4f,"
           "\"eer_threshold\":%.4f,\"threshold\":%.4f,\"apcer\":%.4f,\"apcer_replay\":%.4f,\"apcer_print\":%.4f,"
           "\"bpcer\":%.4f,\"acer\":%.4f}\n",
           box_mode, n, no_face, nl, ns, eer, eer_t, threshold, apcer, ap_replay, ap_print, bpcer, (apcer + bpcer) / 2);
    vf_cli_models_free(&M);
    return 0;
}
