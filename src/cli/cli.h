/* cli.h - shared pieces of the command line: model loading and single-image analysis. */
#ifndef VF_CLI_H
#define VF_CLI_H

#include "../face/face.h"
#include "veriface.h"

#include <stdio.h>

typedef struct vf_cli_models {
    vf_model *detector, *mesh;
    vf_liveness_models live;   /* NULL members when MiniFASNet is absent */
    vf_pad_scratch *scratch;   /* the PAD cues' working memory */
} vf_cli_models;

/* The detector, mesh and PAD roles of vf_model_roles(): committed models from models_dir, fetched
 * ones (MiniFASNet, optional) from pad_dir. Returns 0 or prints the error and returns -1. */
int vf_cli_models_load(vf_context *ctx, const char *models_dir, const char *pad_dir, vf_cli_models *m);
void vf_cli_models_free(vf_cli_models *m);
int vf_cli_has_pad(const vf_cli_models *m);   /* 1 when every PAD model is loaded */
vf_model *vf_cli_load_model(vf_context *ctx, const char *path, int quiet);

typedef struct vf_cli_face {
    int n_faces;
    vf_face_box box;
    vf_face_landmarks lm;
    vf_liveness_score live;
} vf_cli_face;

/* Decode `path`, detect, take the highest-scoring face, landmarks, liveness. box_mode "retina" with
 * 2 scales = the pipeline's fused score (vf_liveness_score_face); any other box ("detector", "mesh"
 * = tight mesh box) or 1 scale = MiniFASNet alone on that box (a measured variant). 0 on success,
 * 1 when no face, 2 on error. */
int vf_cli_analyze_file(vf_context *ctx, const vf_cli_models *m, const char *path, const char *box_mode, int n_scales,
                        vf_cli_face *out);

/* ---- evaluation tools (eval_pad.c, eval_match.c; shared pieces in eval.c, det_svg.c) -------- */

typedef struct vf_cli_pad_opts {
    const char *const *labels;  /* label files (image,label,attack_type[,source,...]); each row's
                                 * image is relative to its own file's directory */
    int n_labels;
    const char *box_mode;       /* see vf_cli_analyze_file */
    int n_scales;
    float threshold;            /* --threshold: the summary's "at_threshold" */
    const float *thresholds;    /* --thresholds: the "at" array; NULL = the session's pass, fail */
    int n_thresholds;
    const char *det_svg;        /* --det FILE.svg or NULL */
    int det_by_source;          /* one DET curve per source instead of per attack type */
} vf_cli_pad_opts;

/* Per-image JSON lines, then one summary line (pooled and per source). 0, 1 when a label file or
 * the SVG could not be read or written (the summary covers the rest), 2 without models. */
int vf_cli_eval_pad(vf_context *ctx, const char *models_dir, const char *pad_models_dir, const vf_cli_pad_opts *o);
/* Embeds every image of the pairs once (its face as vf_engine_embed_face chooses it); JSON lines
 * for the images that give no embedding, then a summary of the pairs used and skipped (by
 * reason). 0, 1 when the CSV is
 * malformed (the summary covers the rows before), 2 on missing models or file. range: NULL for the
 * embedder's own crop (vf_embed_crop_of: range and channel order from its .vfm meta), else {lo, hi}
 * in RGB order; flip 0 drops the mirrored crop (vf_embed_crop.flip) to measure the raw model. */
int vf_cli_eval_match(vf_context *ctx, const char *models_dir, const char *pairs_csv, const char *embed_name, const float *range,
                      int flip, int scores);

/* RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines; CRLF or LF; a UTF-8
 * BOM is skipped; blank lines are ignored. The file is read whole and unquoted in place. */
typedef struct vf_csv {
    char *buf;
    size_t n, pos;
    int line, next_line;  /* line where the last record starts (1-based); line of pos */
    char **field;         /* the last record's fields (pointers into buf) */
    int n_field, cap_field;
} vf_csv;
int vf_csv_open(vf_csv *c, const char *path, char *err, size_t errn);   /* 0 or -1 with err */
int vf_csv_next(vf_csv *c, char *err, size_t errn);  /* fields of the next record; 0 at the end; -1 */
void vf_csv_close(vf_csv *c);

/* Interned strings in insertion order (hash lookup). Index, or -1 when out of memory. */
typedef struct vf_strtab { char **s; int n, cap; int *slot; int n_slot; } vf_strtab;
int vf_strtab_add(vf_strtab *t, const char *s);
void vf_strtab_free(vf_strtab *t);

/* Why an image gave no result; the names are the summaries' keys. */
typedef enum vf_eval_skip {
    VF_EVAL_OK, VF_EVAL_UNREADABLE, VF_EVAL_EMPTY_FILE, VF_EVAL_UNSUPPORTED, VF_EVAL_TOO_LARGE, VF_EVAL_CORRUPT,
    VF_EVAL_NO_MEMORY, VF_EVAL_NO_FACE, VF_EVAL_NO_LANDMARKS, VF_EVAL_FAILED, VF_EVAL_N_SKIPS
} vf_eval_skip;
const char *vf_eval_skip_name(vf_eval_skip s);
/* Read and decode `path` (out NULL: only read and probe the structure). VF_EVAL_OK, or the reason
 * with a message in msg. */
vf_eval_skip vf_eval_read_image(vf_context *ctx, const char *path, vf_image_buffer *out, char *msg, size_t msgn);
/* dir + "/" + name (name as is when absolute); malloc'd, NULL when out of memory. */
char *vf_eval_join(const char *dir, const char *name);
/* The directory part of path ("." when none); malloc'd. */
char *vf_eval_dirname(const char *path);

/* Score statistics on arrays sorted ascending (vf_eval_sort). Accept as bona fide / same person
 * when score >= t. NAN when a class is empty. */
void vf_eval_sort(float *v, int n);
int vf_eval_count_below(const float *v, int n, float t);          /* elements < t */
double vf_eval_auc(const float *pos, int n_pos, const float *neg, int n_neg); /* P(pos > neg), ties half */
/* Sweep every observed score as the threshold; the point where |APCER - BPCER| is least (the
 * lowest such threshold): (APCER + BPCER) / 2, and its threshold in *thr. */
double vf_eval_eer(const float *live, int n_live, const float *spoof, int n_spoof, float *thr);

/* JSON output: a quoted, escaped string; a number with `prec` decimals or null when NAN. */
void vf_eval_json_str(FILE *f, const char *s);
void vf_eval_json_num(FILE *f, double v, int prec);

/* DET curve as a self-contained SVG: APCER against BPCER on normal-deviate axes. curves[0] is
 * the main curve: its EER point and the thresholds thr[] are marked on it. Curves with an empty
 * class are left out. The number of curves drawn, or -1 with err. */
typedef struct vf_det_curve {
    const char *label;                /* legend text */
    const float *live, *spoof;        /* scores sorted ascending */
    int n_live, n_spoof;
} vf_det_curve;
int vf_det_svg_write(const char *path, const char *title, const vf_det_curve *curves, int n_curves, const float *thr,
                     int n_thr, char *err, size_t errn);

vf_engine *vf_cli_engine(vf_context *ctx, const char *models_dir, const char *pad_dir);
int vf_cli_analyze(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *const *paths, int n);
int vf_cli_compare(vf_context *ctx, const char *models_dir, const char *a, const char *b);
/* Benchmark (not a test): the session's per-frame step and final analysis on one frame, `runs`
 * captures with backend `be` (the context's thread count); one JSON line of medians. */
int vf_cli_bench_pipeline(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *frame_path, vf_backend be,
                          int threads, int runs);

#endif
