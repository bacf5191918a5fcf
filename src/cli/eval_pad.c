/* eval_pad.c - `veriface eval-pad`: passive liveness on labelled sets, with our own detector boxes.
 *
 * Metrics follow ISO/IEC 30107-3: APCER = share of attack presentations accepted as bona fide
 * (reported per attack type), BPCER = share of bona fide presentations rejected, ACER = the mean of
 * BPCER and the worst attack type's APCER; EER where APCER and BPCER cross when the threshold
 * sweeps the observed scores. The frames of one source come from one or two sessions of the same
 * people and room, so every figure is given per source as well as pooled. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROW_OK, ROW_NO_FACE, ROW_ERROR };

typedef struct pad_row { int source, attack, live, status; float score; } pad_row;

typedef struct pad_eval {
    pad_row *row;
    int n, cap;
    vf_strtab sources, attacks;   /* names in order of first appearance */
} pad_eval;

typedef struct pad_file { int rows, bad_rows, has_source, failed; char err[300]; } pad_file;

/* The scores of one group of rows (all, or one source), each array sorted ascending. */
typedef struct pad_group {
    int images, lab_live, lab_spoof, n_live, n_spoof, no_face, error;
    float *live, *spoof;
    float **att;                  /* per attack type id: the scores of that type's attacks */
    int *n_att;
} pad_group;

static void group_free(pad_group *g, int n_attacks) {
    for (int k = 0; g->att && k < n_attacks; k++) free(g->att[k]);
    free(g->att);
    free(g->n_att);
    free(g->live);
    free(g->spoof);
    memset(g, 0, sizeof *g);
}

/* source -1: every row. -1 when out of memory. */
static int group_build(const pad_eval *E, int source, pad_group *g) {
    int na = E->attacks.n;
    memset(g, 0, sizeof *g);
    g->att = calloc((size_t)na + 1, sizeof *g->att);
    g->n_att = calloc((size_t)na + 1, sizeof *g->n_att);
    g->live = malloc(sizeof *g->live * ((size_t)E->n + 1));
    g->spoof = malloc(sizeof *g->spoof * ((size_t)E->n + 1));
    if (!g->att || !g->n_att || !g->live || !g->spoof) { group_free(g, na); return -1; }
    for (int i = 0; i < E->n; i++) {
        const pad_row *r = &E->row[i];
        if (source >= 0 && r->source != source) continue;
        g->images++;
        if (r->live) g->lab_live++; else g->lab_spoof++;
        if (r->status == ROW_NO_FACE) g->no_face++;
        if (r->status == ROW_ERROR) g->error++;
        if (r->status != ROW_OK) continue;
        if (r->live) g->live[g->n_live++] = r->score;
        else { g->spoof[g->n_spoof++] = r->score; g->n_att[r->attack]++; }
    }
    for (int k = 0; k < na; k++) {
        g->att[k] = malloc(sizeof **g->att * ((size_t)g->n_att[k] + 1));
        if (!g->att[k]) { group_free(g, na); return -1; }
        int m = 0;
        for (int i = 0; i < E->n; i++) {
            const pad_row *r = &E->row[i];
            if ((source < 0 || r->source == source) && r->status == ROW_OK && !r->live && r->attack == k) g->att[k][m++] = r->score;
        }
        vf_eval_sort(g->att[k], m);
    }
    vf_eval_sort(g->live, g->n_live);
    vf_eval_sort(g->spoof, g->n_spoof);
    return 0;
}

static double apcer_at(const float *s, int n, float t) {
    return n ? (double)(n - vf_eval_count_below(s, n, t)) / n : NAN;
}

/* Error rates of group g at threshold t (accept as bona fide when score >= t), overall and per
 * attack type present in the group. */
static void print_at(const pad_eval *E, const pad_group *g, float t) {
    double bpcer = g->n_live ? (double)vf_eval_count_below(g->live, g->n_live, t) / g->n_live : NAN;
    printf("{\"threshold\":%.4f,\"bpcer\":", t);
    vf_eval_json_num(stdout, bpcer, 4);
    printf(",\"apcer\":");
    vf_eval_json_num(stdout, apcer_at(g->spoof, g->n_spoof, t), 4);
    printf(",\"per_attack\":{");
    double worst = NAN;
    for (int k = 0, first = 1; k < E->attacks.n; k++) {
        if (!g->n_att[k]) continue;
        double a = apcer_at(g->att[k], g->n_att[k], t);
        if (isnan(worst) || a > worst) worst = a;
        printf("%s", first ? "" : ",");
        vf_eval_json_str(stdout, E->attacks.s[k]);
        printf(":{\"n\":%d,\"apcer\":%.4f,\"acer\":", g->n_att[k], a);
        vf_eval_json_num(stdout, (a + bpcer) / 2, 4);
        printf("}");
        first = 0;
    }
    /* ISO/IEC 30107-3 ACER uses the worst attack type's APCER */
    printf("},\"acer\":");
    vf_eval_json_num(stdout, (worst + bpcer) / 2, 4);
    printf("}");
}

/* Counts, AUC, EER and the "at" array of a group (JSON members, no braces). */
static void print_group(const pad_eval *E, const pad_group *g, const float *thr, int n_thr) {
    float eer_t;
    double eer = vf_eval_eer(g->live, g->n_live, g->spoof, g->n_spoof, &eer_t);
    printf("\"images\":%d,\"labelled_live\":%d,\"labelled_spoof\":%d,\"no_face\":%d,\"error\":%d,\"live\":%d,\"spoof\":%d,"
           "\"auc\":", g->images, g->lab_live, g->lab_spoof, g->no_face, g->error, g->n_live, g->n_spoof);
    vf_eval_json_num(stdout, vf_eval_auc(g->live, g->n_live, g->spoof, g->n_spoof), 4);
    printf(",\"eer\":");
    vf_eval_json_num(stdout, eer, 4);
    printf(",\"eer_threshold\":");
    vf_eval_json_num(stdout, eer_t, 4);
    printf(",\"at\":[");
    for (int i = 0; i < n_thr; i++) {
        if (i) printf(",");
        print_at(E, g, thr[i]);
    }
    printf("]");
}

/* A file without a source column: its directory's name (the working directory's when none). */
static char *dir_source(const char *dir) {
    char cwd[1024];
    if (!strcmp(dir, ".") && getcwd(cwd, sizeof cwd)) dir = cwd;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    const char *base = dir;
    for (size_t i = 0; i + 1 < n; i++) if (dir[i] == '/') base = dir + i + 1;
    size_t len = n - (size_t)(base - dir);
    char *s = malloc(len + 1);
    if (s) { memcpy(s, base, len); s[len] = 0; }
    return s;
}

/* One data row: check it, analyse its image, print its JSON line, keep its score. */
static int pad_row_add(vf_context *ctx, const vf_cli_models *M, const vf_cli_pad_opts *o, pad_eval *E, const char *dir,
                       const char *source, char **field, int nf) {
    const char *image = field[0], *label = field[1];
    int live = !strcmp(label, "live");
    const char *attack = live ? "none" : field[2][0] ? field[2] : "unknown";
    if (nf > 3 && field[3][0]) source = field[3];
    if (E->n == E->cap) {
        int cap = E->cap ? 2 * E->cap : 256;
        pad_row *nr = realloc(E->row, sizeof *nr * (size_t)cap);
        if (!nr) return -1;
        E->row = nr;
        E->cap = cap;
    }
    pad_row *r = &E->row[E->n];
    r->live = live;
    r->source = vf_strtab_add(&E->sources, source);
    r->attack = vf_strtab_add(&E->attacks, attack);
    char *path = vf_eval_join(dir, image);
    if (r->source < 0 || r->attack < 0 || !path) { free(path); return -1; }
    E->n++;
    vf_cli_face face;
    int rc = vf_cli_analyze_file(ctx, M, path, o->box_mode, o->n_scales, &face);
    r->status = rc == 0 ? ROW_OK : rc == 1 ? ROW_NO_FACE : ROW_ERROR;
    r->score = face.live.live;
    printf("{\"image\":");
    vf_eval_json_str(stdout, image);
    printf(",\"source\":");
    vf_eval_json_str(stdout, source);
    printf(",\"label\":\"%s\",\"attack\":", live ? "live" : "spoof");
    vf_eval_json_str(stdout, attack);
    if (r->status == ROW_OK) {
        /* the parts of the score too: tools/pad-fit.mjs fits the fusion from them */
        printf(",\"live\":%.4f,\"v2\":%.4f,\"v1se\":%.4f,\"minifasnet\":%.4f,\"log_odds\":%.4f,\"screen_edge\":%.4f,\"moire\":",
               face.live.live, face.live.model[0], face.live.model[1], face.live.minifasnet, face.live.log_odds, face.live.cues.screen_edge);
        if (isfinite(face.live.cues.moire)) printf("%.4f}\n", face.live.cues.moire); else printf("null}\n");
    } else if (r->status == ROW_NO_FACE) {
        printf(",\"face\":false}\n");
    } else {
        /* the reason: the file's own structure when that is what failed, else the pipeline's */
        char last[256], msg[256];
        snprintf(last, sizeof last, "%s", vf_context_last_error(ctx));
        vf_eval_skip why = vf_eval_read_image(ctx, path, NULL, msg, sizeof msg);
        if (why == VF_EVAL_OK) { why = VF_EVAL_FAILED; snprintf(msg, sizeof msg, "%s", last); }
        printf(",\"error\":\"%s\",\"message\":", vf_eval_skip_name(why));
        vf_eval_json_str(stdout, msg);
        printf("}\n");
    }
    fflush(stdout);
    free(path);
    return 0;
}

/* Read one label file and analyse its rows; failures are recorded in *pf. -1 when out of memory. */
static int pad_read_labels(vf_context *ctx, const vf_cli_models *M, const vf_cli_pad_opts *o, const char *labels,
                           pad_eval *E, pad_file *pf) {
    vf_csv c;
    if (vf_csv_open(&c, labels, pf->err, sizeof pf->err)) {
        fprintf(stderr, "veriface: %s\n", pf->err);
        pf->failed = 1;
        return 0;
    }
    char *dir = vf_eval_dirname(labels), *dflt = dir ? dir_source(dir) : NULL;
    if (!dir || !dflt) { free(dir); free(dflt); vf_csv_close(&c); return -1; }
    char err[256];
    int nf = vf_csv_next(&c, err, sizeof err), rc = 0;
    /* header: the source column is the fourth, when it is named so */
    if (nf > 0 && !strcmp(c.field[0], "image")) {
        pf->has_source = nf >= 4 && !strcmp(c.field[3], "source");
        nf = vf_csv_next(&c, err, sizeof err);
    } else if (nf > 0) {
        fprintf(stderr, "veriface: %s: no header (image,label,attack_type,source): line 1 read as data\n", labels);
    }
    for (; nf > 0 && rc == 0; nf = vf_csv_next(&c, err, sizeof err)) {
        const char *why = nf < 3 ? "fewer than 3 fields (image,label,attack_type)"
                          : !c.field[0][0] ? "no image"
                          : strcmp(c.field[1], "live") && strcmp(c.field[1], "spoof") ? "label is neither live nor spoof"
                          : NULL;
        if (why) {
            fprintf(stderr, "veriface: %s:%d: %s: row skipped\n", labels, c.line, why);
            pf->bad_rows++;
            continue;
        }
        pf->rows++;
        rc = pad_row_add(ctx, M, o, E, dir, dflt, c.field, pf->has_source ? nf : 3);
    }
    if (nf < 0) {
        snprintf(pf->err, sizeof pf->err, "%s: %s (rows after it are not read)", labels, err);
        fprintf(stderr, "veriface: %s\n", pf->err);
        pf->failed = 1;
    }
    free(dir);
    free(dflt);
    vf_csv_close(&c);
    return rc;
}

/* The DET curves: pooled first, then one per attack type with >= 3 attacks or one per source. */
static int pad_write_det(const pad_eval *E, const pad_group *all, const vf_cli_pad_opts *o, const float *thr, int n_thr,
                         int *n_curves, char *err, size_t errn) {
    int cap = 1 + (E->attacks.n > E->sources.n ? E->attacks.n : E->sources.n);
    vf_det_curve *cv = calloc((size_t)cap, sizeof *cv);
    char **labels = calloc((size_t)cap, sizeof *labels);
    pad_group *gs = o->det_by_source ? calloc((size_t)E->sources.n + 1, sizeof *gs) : NULL;
    int n = 0, rc = -1;
    *n_curves = 0;
    if (!cv || !labels || (o->det_by_source && !gs)) goto done;
    float eer_t;
    double eer = vf_eval_eer(all->live, all->n_live, all->spoof, all->n_spoof, &eer_t);
    labels[0] = malloc(96);
    if (!labels[0]) goto done;
    snprintf(labels[0], 96, "pooled (%d bona fide, %d attacks)", all->n_live, all->n_spoof);
    if (!isnan(eer)) snprintf(labels[0], 96, "pooled (%d bona fide, %d attacks), EER %.1f%%", all->n_live, all->n_spoof, 100 * eer);
    cv[n++] = (vf_det_curve){labels[0], all->live, all->spoof, all->n_live, all->n_spoof};
    for (int k = 0; k < (o->det_by_source ? E->sources.n : E->attacks.n); k++) {
        const char *name = o->det_by_source ? E->sources.s[k] : E->attacks.s[k];
        const float *live = all->live, *spoof = all->att[k];
        int n_live = all->n_live, n_spoof = all->n_att[k];
        if (o->det_by_source) {
            if (group_build(E, k, &gs[k])) goto done;
            live = gs[k].live, spoof = gs[k].spoof, n_live = gs[k].n_live, n_spoof = gs[k].n_spoof;
            if (!n_live || !n_spoof) continue;
        } else if (n_spoof < 3) {
            continue;
        }
        size_t len = strlen(name) + 64;
        if (!(labels[n] = malloc(len))) goto done;
        if (o->det_by_source) snprintf(labels[n], len, "%s (%d live / %d attack)", name, n_live, n_spoof);
        else snprintf(labels[n], len, "%s (%d attacks)", name, n_spoof);
        cv[n] = (vf_det_curve){labels[n], live, spoof, n_live, n_spoof};
        n++;
    }
    char title[160];
    snprintf(title, sizeof title, "veriface eval-pad: DET, %d bona fide and %d attack presentations, %d source%s", all->n_live,
             all->n_spoof, E->sources.n, E->sources.n == 1 ? "" : "s");
    *n_curves = vf_det_svg_write(o->det_svg, title, cv, n, thr, n_thr, err, errn);
    rc = *n_curves < 0 ? -1 : 0;
done:
    if (rc && !err[0]) snprintf(err, errn, "out of memory");
    for (int k = 0; gs && k < E->sources.n; k++) group_free(&gs[k], E->attacks.n);
    for (int k = 0; labels && k < cap; k++) free(labels[k]);
    free(labels);
    free(cv);
    free(gs);
    return rc;
}

int vf_cli_eval_pad(vf_context *ctx, const char *models_dir, const char *pad_models_dir, const vf_cli_pad_opts *o) {
    vf_cli_models M;
    if (vf_cli_models_load(ctx, models_dir, pad_models_dir, &M)) return 2;
    /* without MiniFASNet every row would fail: say so once */
    if (!vf_cli_has_pad(&M)) {
        fprintf(stderr, "veriface: MiniFASNet not found in %s: %s\n", pad_models_dir, vf_status_string(VF_E_NO_MODEL));
        vf_cli_models_free(&M);
        return 2;
    }
    pad_eval E;
    memset(&E, 0, sizeof E);
    pad_file *files = calloc((size_t)o->n_labels + 1, sizeof *files);
    pad_group all;
    memset(&all, 0, sizeof all);
    int rc = files ? 0 : 2, bad_rows = 0;
    for (int i = 0; i < o->n_labels && rc == 0; i++) {
        if (pad_read_labels(ctx, &M, o, o->labels[i], &E, &files[i])) rc = 2;
        if (files[i].failed) rc = rc ? rc : 1;
        bad_rows += files[i].bad_rows;
    }
    vf_cli_models_free(&M);
    if (rc != 2 && group_build(&E, -1, &all)) rc = 2;
    if (rc == 2) {
        fprintf(stderr, "veriface: eval-pad: out of memory\n");
        goto done;
    }
    vf_session_config sc = vf_session_default_config();
    float session_thr[2] = {sc.live_pass, sc.live_fail};
    const float *thr = o->thresholds ? o->thresholds : session_thr;
    int n_thr = o->thresholds ? o->n_thresholds : 2, n_curves = 0;
    char det_err[300] = "";
    if (o->det_svg && pad_write_det(&E, &all, o, thr, n_thr, &n_curves, det_err, sizeof det_err)) {
        fprintf(stderr, "veriface: --det %s: %s\n", o->det_svg, det_err);
        rc = 1;
    }
    printf("{\"summary\":true,\"box\":\"%s\",\"crops\":%d,\"files\":[", o->box_mode, 2 * o->n_scales);
    for (int i = 0; i < o->n_labels; i++) {
        printf("%s{\"path\":", i ? "," : "");
        vf_eval_json_str(stdout, o->labels[i]);
        printf(",\"rows\":%d,\"bad_rows\":%d,\"source_column\":%s", files[i].rows, files[i].bad_rows,
               files[i].has_source ? "true" : "false");
        if (files[i].failed) { printf(",\"error\":"); vf_eval_json_str(stdout, files[i].err); }
        printf("}");
    }
    printf("],\"bad_rows\":%d,", bad_rows);
    print_group(&E, &all, thr, n_thr);
    /* the single --threshold, then the session's pass and fail thresholds (read by docs and tools) */
    printf(",\"at_threshold\":");
    print_at(&E, &all, o->threshold);
    printf(",\"at_session_pass\":");
    print_at(&E, &all, sc.live_pass);
    printf(",\"at_session_fail\":");
    print_at(&E, &all, sc.live_fail);
    printf(",\"sources\":[");
    for (int s = 0; s < E.sources.n; s++) {
        pad_group g;
        if (group_build(&E, s, &g)) { rc = 2; fprintf(stderr, "veriface: eval-pad: out of memory\n"); break; }
        printf("%s{\"source\":", s ? "," : "");
        vf_eval_json_str(stdout, E.sources.s[s]);
        printf(",");
        print_group(&E, &g, thr, n_thr);
        printf("}");
        group_free(&g, E.attacks.n);
    }
    printf("]");
    if (o->det_svg) {
        printf(",\"det\":{\"path\":");
        vf_eval_json_str(stdout, o->det_svg);
        printf(",\"curves\":%d,\"by\":\"%s\"", n_curves > 0 ? n_curves : 0, o->det_by_source ? "source" : "attack_type");
        if (det_err[0]) { printf(",\"error\":"); vf_eval_json_str(stdout, det_err); }
        printf("}");
    }
    printf("}\n");
done:
    group_free(&all, E.attacks.n);
    free(files);
    free(E.row);
    vf_strtab_free(&E.sources);
    vf_strtab_free(&E.attacks);
    return rc;
}
