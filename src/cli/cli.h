/* cli.h - shared pieces of the command line: model loading and single-image analysis. */
#ifndef VF_CLI_H
#define VF_CLI_H

#include "../face/face.h"
#include "veriface.h"

typedef struct vf_cli_models {
    vf_model *detector, *mesh;
    vf_liveness_models live;   /* NULL members when MiniFASNet is absent */
} vf_cli_models;

/* models_dir: blazeface-front.vfm, facemesh.vfm; pad_dir: minifasnet-v2.vfm, minifasnet-v1se.vfm
 * (optional). Returns 0 or prints the error and returns -1. */
int vf_cli_models_load(vf_context *ctx, const char *models_dir, const char *pad_dir, vf_cli_models *m);
void vf_cli_models_free(vf_cli_models *m);
vf_model *vf_cli_load_model(vf_context *ctx, const char *path, int quiet);

typedef struct vf_cli_face {
    int n_faces;
    vf_face_box box;
    vf_face_landmarks lm;
    vf_liveness_score live;
} vf_cli_face;

/* Decode `path`, detect, take the highest-scoring face, landmarks, liveness on the box chosen by
 * box_mode ("retina" = vf_liveness_box, the pipeline's; "detector"; "mesh" = tight mesh box) at
 * n_scales crop scales per model (1 or 2). 0 on success, 1 when no face, 2 on error. */
int vf_cli_analyze_file(vf_context *ctx, const vf_cli_models *m, const char *path, const char *box_mode, int n_scales,
                        vf_cli_face *out);

int vf_cli_eval_pad(vf_context *ctx, const char *models_dir, const char *pad_models_dir, const char *labels,
                    const char *box_mode, int n_scales, float threshold);

vf_engine *vf_cli_engine(vf_context *ctx, const char *models_dir, const char *pad_dir);
int vf_cli_analyze(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *const *paths, int n);
int vf_cli_compare(vf_context *ctx, const char *models_dir, const char *a, const char *b);
/* Benchmark (not a test): the session's per-frame step and final analysis on one frame, `runs`
 * captures with backend `be` (the context's thread count); one JSON line of medians. */
int vf_cli_bench_pipeline(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *frame_path, vf_backend be,
                          int threads, int runs);
int vf_cli_eval_match(vf_context *ctx, const char *models_dir, const char *pairs_csv, const char *embed_name, float lo, float hi);

#endif
