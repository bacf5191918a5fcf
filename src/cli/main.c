/* main.c - the veriface command line (native and WASI; also built by Emscripten for node).
 *
 *   veriface version
 *   veriface model-roles                      the model roles (vf_model_roles) as JSON: the pipeline's
 *       models, their files and input conventions (tools/build-web writes it as models/roles.json)
 *   veriface model-info  MODEL.vfm [--backend B]
 *   veriface analyze IMG... [--models DIR] [--pad-models DIR]   frame status + result JSON per image
 *   veriface compare A B [--models DIR]        similarity and band of the two faces
 *   veriface detect IMG... [--models DIR]     faces (boxes, keypoints, scores) as JSON lines
 *   veriface eval-pad LABELS.csv... [--models DIR] [--pad-models DIR] [--box retina|detector|mesh] [--crops 2|4]
 *            [--threshold T] [--thresholds A,B,...] [--det FILE.svg [--det-by-source]]
 *       PAD metrics (ISO/IEC 30107-3) pooled over the files and per source; --thresholds: metrics at
 *       each (default: the session's pass and fail); --det: the DET curve as SVG. Exit 1 when a labels
 *       file or the SVG failed (the summary covers the rest)
 *   veriface eval-match PAIRS.csv [--models DIR] [--embed NAME] [--range LO..HI] [--no-flip] [--scores]
 *       AUC, TMR at FMR 1% / 0.1% and FMR / TMR at the session's match bands; pairs used and skipped
 *       (by reason). NAME: DIR/NAME.vfm (default: the embedder role's file); its own crop (range and
 *       channel order from the .vfm meta) unless --range gives the range (RGB). --no-flip: one
 *       inference per face instead of the pipeline's crop + mirror. --scores: one JSON line per
 *       pair used (its similarity)
 *   veriface model-check MODEL.vfm GOLDEN.vfg [--backend B] [--threads N] [--tol T] [--rtol R] [--skip-missing]
 *   veriface bench-pipeline FRAME [--models DIR] [--pad-models DIR] [--backend B] [--threads N] [--runs N]
 *       benchmark of the session pipeline (tools/bench-pipeline runs every configuration)
 *
 * model-check runs the model on the golden's seeded input with backend B and with the reference
 * backend, and prints one JSON object: max abs / rel error of each against the golden outputs
 * (recorded from the source model's own runtime) and against each other. An element passes when
 * |ours - expected| <= T + R * |expected| (R defaults to 0: a pure absolute bound). Exit 0 when
 * every element passes, 1 when not, 2 on bad usage or input. */
#include "golden.h"
#include "veriface.h"
#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES ((size_t)256 << 20)

static int read_file(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "veriface: cannot open %s\n", path); return -1; }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        if (cap >= MAX_FILE_BYTES) { free(buf); buf = NULL; fprintf(stderr, "veriface: %s is over 256 MiB\n", path); break; }
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); if (err) fprintf(stderr, "veriface: read error on %s\n", path); return -1; }
    *data = buf;
    *size = n;
    return 0;
}

static int parse_backend(const char *s, vf_backend *b) {
    const vf_backend all[] = {VF_BACKEND_AUTO, VF_BACKEND_REF, VF_BACKEND_SIMD, VF_BACKEND_XNNPACK};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, vf_backend_name(all[i])) == 0) { *b = all[i]; return 0; }
    fprintf(stderr, "veriface: unknown backend '%s' (auto, ref, simd, xnnpack)\n", s);
    return -1;
}

typedef struct opts {
    const char *pos[64];
    int n_pos;
    vf_backend backend;
    int threads;
    double tol, rtol;
    const char *models;   /* directory with the .vfm files; default "models" */
    const char *pad_models; /* directory with minifasnet-*.vfm; default "build/models" */
    const char *box;      /* eval-pad: face box given to liveness */
    int crops;            /* eval-pad: 2 (each model at its scale) or 4 (two scales each) */
    double threshold;
    int runs;             /* bench-pipeline: captures */
    const char *embed;    /* eval-match: embedding model name */
    const char *thresholds; /* eval-pad: "A,B,..." */
    const char *det;      /* eval-pad: DET curve SVG to write */
    bool det_by_source;   /* eval-pad: one DET curve per source */
    float range_lo, range_hi;
    bool range_set;       /* eval-match: --range given (else the embedder's own) */
    bool scores;          /* eval-match: one line per pair */
    bool no_flip;         /* eval-match: without the mirrored crop (a measured variant) */
    bool skip_missing; /* model-check: exit 77 (test skipped) when the model file is absent */
} opts;

static int parse_opts(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->backend = VF_BACKEND_AUTO;
    o->threads = 1;
    o->tol = 1e-4;
    o->models = "models";
    o->pad_models = "build/models";
    o->box = "retina";
    o->crops = 4;
    o->threshold = 0.5;
    o->runs = 20;
    o->embed = NULL;      /* eval-match: the embedder role's model */
    o->range_lo = 0.0f;
    o->range_hi = 1.0f;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
            if (parse_backend(argv[++i], &o->backend)) return -1;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            o->threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--tol") && i + 1 < argc) {
            o->tol = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--pad-models") && i + 1 < argc) {
            o->pad_models = argv[++i];
        } else if (!strcmp(argv[i], "--box") && i + 1 < argc) {
            o->box = argv[++i];
        } else if (!strcmp(argv[i], "--embed") && i + 1 < argc) {
            o->embed = argv[++i];
        } else if (!strcmp(argv[i], "--range") && i + 1 < argc) {
            const char *r = argv[++i], *dots = strstr(r, ".."); /* "%f..%f" would eat "0." */
            if (!dots) { fprintf(stderr, "veriface: --range LO..HI\n"); return -1; }
            o->range_lo = strtof(r, NULL);
            o->range_hi = strtof(dots + 2, NULL);
            o->range_set = true;
        } else if (!strcmp(argv[i], "--scores")) {
            o->scores = true;
        } else if (!strcmp(argv[i], "--no-flip")) {
            o->no_flip = true;
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            o->runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--crops") && i + 1 < argc) {
            o->crops = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
            o->threshold = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--thresholds") && i + 1 < argc) {
            o->thresholds = argv[++i];
        } else if (!strcmp(argv[i], "--det") && i + 1 < argc) {
            o->det = argv[++i];
        } else if (!strcmp(argv[i], "--det-by-source")) {
            o->det_by_source = true;
        } else if (!strcmp(argv[i], "--models") && i + 1 < argc) {
            o->models = argv[++i];
        } else if (!strcmp(argv[i], "--rtol") && i + 1 < argc) {
            o->rtol = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--skip-missing")) {
            o->skip_missing = true;
        } else if (argv[i][0] == '-' || o->n_pos == (int)(sizeof o->pos / sizeof o->pos[0])) {
            fprintf(stderr, "veriface: unexpected argument '%s'\n", argv[i]);
            return -1;
        } else {
            o->pos[o->n_pos++] = argv[i];
        }
    }
    return 0;
}

static vf_model *load_model(vf_context *ctx, const char *path, vf_backend b) {
    uint8_t *bytes;
    size_t n;
    if (read_file(path, &bytes, &n)) return NULL;
    vf_model_options mo = vf_model_default_options();
    mo.backend = b;
    vf_model *m = NULL;
    vf_status s = vf_model_load(ctx, bytes, n, &mo, &m);
    free(bytes);
    if (s) fprintf(stderr, "veriface: %s: %s: %s\n", path, vf_status_string(s), vf_context_last_error(ctx));
    return m;
}

static void print_tensor(const vf_tensor_info *t) {
    printf("{\"name\":\"%s\",\"dims\":[", t->name);
    for (int d = 0; d < t->rank; d++) printf("%s%d", d ? "," : "", t->dims[d]);
    printf("]}");
}

static int cmd_info(vf_context *ctx, const opts *o) {
    if (o->n_pos != 1) { fprintf(stderr, "usage: veriface model-info MODEL.vfm [--backend B]\n"); return 2; }
    vf_model *m = load_model(ctx, o->pos[0], o->backend);
    if (!m) return 2;
    vf_model_stats st;
    vf_model_get_stats(m, &st);
    printf("{\"model\":\"%s\",\"backend\":\"%s\",\"ops\":%d,\"mflops\":%.3f,\"weight_bytes\":%zu,"
           "\"arena_bytes\":%zu,\"naive_arena_bytes\":%zu,\"meta\":\"%s\",\"inputs\":[",
           o->pos[0], vf_backend_name(st.backend), st.n_ops, st.mflops, st.weight_bytes, st.arena_bytes,
           st.naive_bytes, st.meta);
    vf_tensor_info t;
    for (int i = 0; i < vf_model_input_count(m); i++) { vf_model_input(m, i, &t); if (i) printf(","); print_tensor(&t); }
    printf("],\"outputs\":[");
    for (int i = 0; i < vf_model_output_count(m); i++) { vf_model_output(m, i, &t); if (i) printf(","); print_tensor(&t); }
    printf("]}\n");
    vf_model_free(m);
    return 0;
}

typedef struct errs { double abs, rel; bool ok; } errs;

/* Max abs and rel error of a against the expected b, and whether every element is within
 * tol + rtol * |b|. NaN fails. */
static errs compare(const float *a, const float *b, size_t n, double tol, double rtol) {
    errs e = {0, 0, true};
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= e.abs)) e.abs = d;
        double r = d / fmax(fabs((double)b[i]), 1e-3);
        if (!(r <= e.rel)) e.rel = r;
        if (!(d <= tol + rtol * fabs((double)b[i]))) e.ok = false;
    }
    return e;
}

/* Run `m` on the golden input; return 0 and fill outs[k] pointers (owned by m). */
static int run_golden(vf_context *ctx, vf_model *m, const vf_golden *gd) {
    vf_tensor_info in;
    vf_model_input(m, 0, &in);
    size_t want = 1;
    for (int d = 0; d < gd->in_rank; d++) want *= (size_t)gd->in_dims[d];
    if (want != in.count) { fprintf(stderr, "veriface: golden input has %zu values, model wants %zu\n", want, in.count); return -1; }
    vf_golden_fill(gd->seed, gd->lo, gd->hi, in.data, in.count);
    vf_status s = vf_model_invoke(m);
    if (s) { fprintf(stderr, "veriface: invoke: %s: %s\n", vf_status_string(s), vf_context_last_error(ctx)); return -1; }
    if (vf_model_output_count(m) != gd->n_out) { fprintf(stderr, "veriface: model has %d outputs, golden %d\n", vf_model_output_count(m), gd->n_out); return -1; }
    for (int k = 0; k < gd->n_out; k++) {
        vf_tensor_info t;
        vf_model_output(m, k, &t);
        if (t.count != gd->out[k].count || strcmp(t.name, gd->out[k].name) != 0) {
            fprintf(stderr, "veriface: output %d is '%s' (%zu values), golden has '%s' (%zu)\n", k, t.name, t.count, gd->out[k].name, gd->out[k].count);
            return -1;
        }
    }
    return 0;
}

static int cmd_check(vf_context *ctx, const opts *o) {
    if (o->n_pos != 2) { fprintf(stderr, "usage: veriface model-check MODEL.vfm GOLDEN.vfg [--backend B] [--tol T]\n"); return 2; }
    uint8_t *gb;
    size_t gn;
    FILE *probe = o->skip_missing ? fopen(o->pos[0], "rb") : NULL;
    if (o->skip_missing && !probe) {
        printf("SKIP: %s is absent (MiniFASNet is fetched by tools/fetch-models; PAD reports VF_E_NO_MODEL without it)\n", o->pos[0]);
        return 77;
    }
    if (probe) fclose(probe);
    if (read_file(o->pos[1], &gb, &gn)) return 2;
    vf_golden gd;
    char msg[256];
    vf_status s = vf_golden_parse(gb, gn, &gd, msg, sizeof msg);
    free(gb);
    if (s) { fprintf(stderr, "veriface: %s: %s\n", o->pos[1], msg); return 2; }
    vf_model *m = load_model(ctx, o->pos[0], o->backend);
    vf_model *r = m ? load_model(ctx, o->pos[0], VF_BACKEND_REF) : NULL;
    int rc = 2;
    if (m && r && run_golden(ctx, m, &gd) == 0 && run_golden(ctx, r, &gd) == 0) {
        vf_model_stats st;
        vf_model_get_stats(m, &st);
        rc = 0;
        printf("{\"model\":\"%s\",\"backend\":\"%s\",\"threads\":%d,\"tol\":%g,\"rtol\":%g,\"outputs\":[", o->pos[0],
               vf_backend_name(st.backend), o->threads, o->tol, o->rtol);
        for (int k = 0; k < gd.n_out; k++) {
            vf_tensor_info tm, tr;
            vf_model_output(m, k, &tm);
            vf_model_output(r, k, &tr);
            errs eg = compare(tm.data, gd.out[k].data, tm.count, o->tol, o->rtol);
            errs er = compare(tr.data, gd.out[k].data, tr.count, o->tol, o->rtol);
            errs ex = compare(tm.data, tr.data, tm.count, o->tol, o->rtol);
            bool ok = eg.ok && er.ok && ex.ok;
            if (!ok) rc = 1;
            printf("%s{\"name\":\"%s\",\"count\":%zu,\"backend_vs_golden\":{\"max_abs\":%.3g,\"max_rel\":%.3g},"
                   "\"ref_vs_golden\":{\"max_abs\":%.3g,\"max_rel\":%.3g},\"backend_vs_ref\":{\"max_abs\":%.3g},\"ok\":%s}",
                   k ? "," : "", tm.name, tm.count, eg.abs, eg.rel, er.abs, er.rel, ex.abs, ok ? "true" : "false");
        }
        printf("],\"pass\":%s}\n", rc == 0 ? "true" : "false");
    }
    vf_model_free(m);
    vf_model_free(r);
    vf_golden_free(&gd);
    return rc;
}

static int cmd_detect(vf_context *ctx, const opts *o) {
    if (o->n_pos < 1) { fprintf(stderr, "usage: veriface detect IMG... [--models DIR]\n"); return 2; }
    char path[1024];
    snprintf(path, sizeof path, "%s/blazeface-front.vfm", o->models);
    vf_model *det = load_model(ctx, path, o->backend);
    snprintf(path, sizeof path, "%s/facemesh.vfm", o->models);
    vf_model *mesh = det ? load_model(ctx, path, o->backend) : NULL;
    if (!det || !mesh) { vf_model_free(det); return 2; }
    int rc = 0;
    for (int i = 0; i < o->n_pos; i++) {
        uint8_t *bytes;
        size_t n;
        if (read_file(o->pos[i], &bytes, &n)) { rc = 2; continue; }
        vf_image_buffer buf;
        vf_status s = vf_image_decode(ctx, bytes, n, NULL, &buf, NULL);
        free(bytes);
        if (s) {
            printf("{\"image\":\"%s\",\"error\":\"%s\",\"message\":\"%s\"}\n", o->pos[i], vf_status_string(s), vf_context_last_error(ctx));
            rc = 1;
            continue;
        }
        vf_image img = vf_image_buffer_view(&buf);
        vf_face_box faces[VF_DETECT_MAX_FACES];
        int nf = 0;
        s = vf_detect_faces(ctx, det, &img, NULL, faces, &nf);
        printf("{\"image\":\"%s\",\"width\":%d,\"height\":%d,\"faces\":[", o->pos[i], img.width, img.height);
        for (int f = 0; f < nf; f++) {
            printf("%s{\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.4f,\"keypoints\":[", f ? "," : "", faces[f].x0, faces[f].y0,
                   faces[f].x1, faces[f].y1, faces[f].score);
            for (int k = 0; k < VF_DETECT_KEYPOINTS; k++) printf("%s[%.1f,%.1f]", k ? "," : "", faces[f].kp[k][0], faces[f].kp[k][1]);
            printf("]");
            vf_face_landmarks lm;
            if (vf_face_landmarks_run(ctx, mesh, &img, &faces[f], &lm) == VF_OK) {
                printf(",\"presence\":%.3f,\"yaw\":%.1f,\"pitch\":%.1f,\"roll\":%.1f,\"eyes\":[%.3f,%.3f],\"mouth\":%.3f,\"five\":[",
                       lm.presence, lm.yaw, lm.pitch, lm.roll, lm.eye_open[0], lm.eye_open[1], lm.mouth_open);
                for (int k = 0; k < 5; k++) printf("%s[%.1f,%.1f]", k ? "," : "", lm.five[k][0], lm.five[k][1]);
                printf("]");
            }
            printf("}");
        }
        printf("]%s%s%s}\n", s ? ",\"error\":\"" : "", s ? vf_context_last_error(ctx) : "", s ? "\"" : "");
        vf_image_buffer_free(&buf);
    }
    vf_model_free(det);
    vf_model_free(mesh);
    return rc;
}

/* "A,B,..." -> finite numbers; malloc'd array, or NULL with a message. */
static float *parse_thresholds(const char *s, int *n_out) {
    int n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    float *t = malloc(sizeof *t * (size_t)n);
    if (!t) return NULL;
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !isfinite(v)) {
            fprintf(stderr, "veriface: --thresholds: '%s' is not a comma-separated list of numbers\n", s);
            free(t);
            return NULL;
        }
        t[i] = (float)v;
        p = end + 1;
    }
    *n_out = n;
    return t;
}

static int cmd_eval_pad(vf_context *ctx, const opts *o) {
    if (o->n_pos < 1) {
        fprintf(stderr, "usage: veriface eval-pad LABELS.csv... [--models DIR] [--pad-models DIR] [--box retina|detector|mesh] "
                        "[--crops 2|4] [--threshold T] [--thresholds A,B,...] [--det FILE.svg [--det-by-source]]\n");
        return 2;
    }
    if (o->crops != 2 && o->crops != 4) { fprintf(stderr, "veriface: --crops must be 2 or 4\n"); return 2; }
    if (o->det_by_source && !o->det) { fprintf(stderr, "veriface: --det-by-source needs --det FILE.svg\n"); return 2; }
    vf_cli_pad_opts po = {o->pos, o->n_pos, o->box, o->crops / 2, (float)o->threshold, NULL, 0, o->det, o->det_by_source};
    float *thr = NULL;
    if (o->thresholds && !(thr = parse_thresholds(o->thresholds, &po.n_thresholds))) return 2;
    po.thresholds = thr;
    int rc = vf_cli_eval_pad(ctx, o->models, o->pad_models, &po);
    free(thr);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: veriface <analyze|compare|detect|eval-pad|eval-match|model-info|model-roles|model-check|bench-pipeline|version> ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "model-roles")) {
        int n;
        const vf_model_role *r = vf_model_roles(&n);
        printf("[");
        for (int i = 0; i < n; i++)
            printf("%s\n {\"name\":\"%s\",\"file\":\"%s\",\"stage\":\"%s\",\"input\":\"%s\",\"required\":%s,\"fetched\":%s}", i ? "," : "",
                   r[i].name, r[i].file, r[i].stage, r[i].input, r[i].required ? "true" : "false", r[i].fetched ? "true" : "false");
        printf("\n]\n");
        return 0;
    }
    if (!strcmp(argv[1], "version")) {
        printf("veriface %s (ref%s%s)\n", vf_version(), vf_backend_available(VF_BACKEND_XNNPACK) ? ", xnnpack" : "",
               vf_backend_available(VF_BACKEND_SIMD) ? ", simd" : "");
        return 0;
    }
    opts o;
    if (parse_opts(argc, argv, &o)) return 2;
    vf_context_options co = vf_context_default_options();
    co.threads = o.threads;
    vf_context *ctx;
    if (vf_context_create(&co, &ctx) != VF_OK) { fprintf(stderr, "veriface: bad options\n"); return 2; }
    int rc;
    if (!strcmp(argv[1], "model-info")) rc = cmd_info(ctx, &o);
    else if (!strcmp(argv[1], "model-check")) rc = cmd_check(ctx, &o);
    else if (!strcmp(argv[1], "detect")) rc = cmd_detect(ctx, &o);
    else if (!strcmp(argv[1], "analyze")) rc = o.n_pos < 1 ? 2 : vf_cli_analyze(ctx, o.models, o.pad_models, o.pos, o.n_pos);
    else if (!strcmp(argv[1], "compare")) rc = o.n_pos != 2 ? 2 : vf_cli_compare(ctx, o.models, o.pos[0], o.pos[1]);
    else if (!strcmp(argv[1], "eval-match")) {
        if (o.n_pos != 1) { fprintf(stderr, "usage: veriface eval-match PAIRS.csv [--models DIR] [--embed NAME] [--range LO..HI] [--no-flip] [--scores]\n"); rc = 2; }
        else {
            const float range[2] = {o.range_lo, o.range_hi};
            rc = vf_cli_eval_match(ctx, o.models, o.pos[0], o.embed, o.range_set ? range : NULL, !o.no_flip, o.scores);
        }
    }
    else if (!strcmp(argv[1], "eval-pad")) rc = cmd_eval_pad(ctx, &o);
    else if (!strcmp(argv[1], "bench-pipeline")) {
        if (o.n_pos != 1 || o.runs < 1) { fprintf(stderr, "usage: veriface bench-pipeline FRAME [--backend B] [--threads N] [--runs N]\n"); rc = 2; }
        else rc = vf_cli_bench_pipeline(ctx, o.models, o.pad_models, o.pos[0], o.backend, o.threads, o.runs);
    }
    else { fprintf(stderr, "veriface: unknown command '%s'\n", argv[1]); rc = 2; }
    vf_context_free(ctx);
    return rc;
}
