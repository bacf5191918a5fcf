/* analyze.c - CLI glue: load the pipeline's models and analyse one image file. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_all(const char *path, uint8_t **data, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return -1; }
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz <= 0 || sz > (256L << 20)) { fclose(f); return -1; }
    *data = malloc((size_t)sz);
    if (!*data || fread(*data, 1, (size_t)sz, f) != (size_t)sz) { free(*data); fclose(f); return -1; }
    fclose(f);
    *n = (size_t)sz;
    return 0;
}

vf_model *vf_cli_load_model(vf_context *ctx, const char *path, int quiet) {
    uint8_t *bytes;
    size_t n;
    if (read_all(path, &bytes, &n)) {
        if (!quiet) fprintf(stderr, "veriface: cannot read %s\n", path);
        return NULL;
    }
    vf_model *m = NULL;
    vf_status s = vf_model_load(ctx, bytes, n, NULL, &m);
    free(bytes);
    if (s) fprintf(stderr, "veriface: %s: %s: %s\n", path, vf_status_string(s), vf_context_last_error(ctx));
    return m;
}

int vf_cli_models_load(vf_context *ctx, const char *models_dir, const char *pad_dir, vf_cli_models *m) {
    memset(m, 0, sizeof *m);
    char p[1024];
    snprintf(p, sizeof p, "%s/blazeface-front.vfm", models_dir);
    m->detector = vf_cli_load_model(ctx, p, 0);
    snprintf(p, sizeof p, "%s/facemesh.vfm", models_dir);
    m->mesh = vf_cli_load_model(ctx, p, 0);
    snprintf(p, sizeof p, "%s/minifasnet-v2.vfm", pad_dir);
    m->live.v2 = vf_cli_load_model(ctx, p, 1);
    snprintf(p, sizeof p, "%s/minifasnet-v1se.vfm", pad_dir);
    m->live.v1se = vf_cli_load_model(ctx, p, 1);
    if (!m->detector || !m->mesh) { vf_cli_models_free(m); return -1; }
    return 0;
}

void vf_cli_models_free(vf_cli_models *m) {
    vf_model_free(m->detector);
    vf_model_free(m->mesh);
    vf_model_free(m->live.v2);
    vf_model_free(m->live.v1se);
    memset(m, 0, sizeof *m);
}

int vf_cli_analyze_file(vf_context *ctx, const vf_cli_models *m, const char *path, const char *box_mode, vf_cli_face *out) {
    memset(out, 0, sizeof *out);
    uint8_t *bytes;
    size_t n;
    if (read_all(path, &bytes, &n)) { fprintf(stderr, "veriface: cannot read %s\n", path); return 2; }
    vf_image_buffer buf;
    vf_status s = vf_image_decode(ctx, bytes, n, NULL, &buf, NULL);
    free(bytes);
    if (s) { fprintf(stderr, "veriface: %s: %s\n", path, vf_context_last_error(ctx)); return 2; }
    vf_image img = vf_image_buffer_view(&buf);
    vf_face_box faces[VF_DETECT_MAX_FACES];
    int rc = 1;
    if (vf_detect_faces(ctx, m->detector, &img, NULL, faces, &out->n_faces) == VF_OK && out->n_faces > 0) {
        out->box = faces[0];
        rc = 2;
        if (vf_face_landmarks_run(ctx, m->mesh, &img, &faces[0], &out->lm) == VF_OK) {
            float det[4] = {faces[0].x0, faces[0].y0, faces[0].x1, faces[0].y1};
            const float *box = strcmp(box_mode, "mesh") == 0 ? out->lm.box : det;
            rc = vf_liveness_run(ctx, &m->live, &img, box, &out->live) == VF_OK ? 0 : 2;
        }
    }
    vf_image_buffer_free(&buf);
    return rc;
}
