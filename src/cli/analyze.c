/* analyze.c - CLI glue: load the pipeline's models and analyse one image file. */
#include "cli.h"
#include "../session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0, or -1 unreadable, -2 empty, -3 over 256 MiB. */
static int read_all(const char *path, uint8_t **data, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return -1; }
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz <= 0 || sz > (256L << 20)) { fclose(f); return sz == 0 ? -2 : sz > 0 ? -3 : -1; }
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
    const vf_model_role *roles = vf_model_roles(NULL);
    char p[1024];
    vf_model *model[VF_ROLE_COUNT] = {0};
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        if (!strcmp(roles[i].stage, "embedding")) continue;   /* analysis by file does not embed */
        snprintf(p, sizeof p, "%s/%s", roles[i].fetched ? pad_dir : models_dir, roles[i].file);
        model[i] = vf_cli_load_model(ctx, p, !roles[i].required);
    }
    m->detector = model[VF_ROLE_DETECTOR];
    m->mesh = model[VF_ROLE_MESH];
    vf_liveness_models_init(&m->live);
    for (int k = 0; k < m->live.n; k++) m->live.m[k] = model[m->live.role[k]];
    m->scratch = vf__alloc_aligned(vf_pad_scratch_size());
    if (!m->detector || !m->mesh || !m->scratch) { vf_cli_models_free(m); return -1; }
    return 0;
}

void vf_cli_models_free(vf_cli_models *m) {
    vf_model_free(m->detector);
    vf_model_free(m->mesh);
    for (int k = 0; k < m->live.n; k++) vf_model_free(m->live.m[k]);
    vf__free_aligned(m->scratch);
    memset(m, 0, sizeof *m);
}

int vf_cli_has_pad(const vf_cli_models *m) {
    for (int k = 0; k < m->live.n; k++) if (!m->live.m[k]) return 0;
    return m->live.n > 0;
}

int vf_cli_analyze_file(vf_context *ctx, const vf_cli_models *m, const char *path, const char *box_mode, int n_scales,
                        vf_cli_face *out) {
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
            float box[4] = {faces[0].x0, faces[0].y0, faces[0].x1, faces[0].y1};
            if (!strcmp(box_mode, "mesh")) memcpy(box, out->lm.box, sizeof box);
            else if (!strcmp(box_mode, "retina")) vf_liveness_box(&out->lm, box);
            /* the pipeline's own score (fused with the cues) unless a variant is being measured */
            if (!strcmp(box_mode, "retina") && n_scales == VF_PAD_SCALES)
                rc = vf_liveness_score_face(ctx, &m->live, &img, &out->lm, m->scratch, &out->live) == VF_OK ? 0 : 2;
            else
                rc = vf_liveness_run_crops(ctx, &m->live, &img, box, n_scales, &out->live) == VF_OK ? 0 : 2;
        }
    }
    vf_image_buffer_free(&buf);
    return rc;
}

/* ---- engine-based commands: analyze (through the session API) and compare -------------------- */

typedef struct blob { uint8_t *p; size_t n; } blob;

static blob read_blob(const char *dir, const char *name) {
    char path[1024];
    blob b = {NULL, 0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (read_all(path, &b.p, &b.n)) b.p = NULL, b.n = 0;
    return b;
}

/* Every role's file: committed models from models_dir, fetched ones (MiniFASNet) from pad_dir;
 * a missing file is an absent model. Free with engine_models_free. */
static void engine_models_read(const char *models_dir, const char *pad_dir, vf_engine_models *mm) {
    const vf_model_role *roles = vf_model_roles(NULL);
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        blob b = read_blob(roles[i].fetched ? pad_dir : models_dir, roles[i].file);
        mm->bytes[i] = b.p;
        mm->size[i] = b.n;
    }
}

static void engine_models_free(vf_engine_models *mm) {
    for (int i = 0; i < VF_ROLE_COUNT; i++) free((void *)mm->bytes[i]);
}

vf_engine *vf_cli_engine(vf_context *ctx, const char *models_dir, const char *pad_dir) {
    vf_engine_models mm;
    engine_models_read(models_dir, pad_dir, &mm);
    vf_engine *e = NULL;
    vf_status s = vf_engine_create(ctx, &mm, NULL, &e);
    if (s) fprintf(stderr, "veriface: engine: %s: %s\n", vf_status_string(s), vf_context_last_error(ctx));
    else if (!vf__engine_has_pad(e))
        fprintf(stderr, "veriface: PAD models not found in %s: liveness reports %s\n", pad_dir, vf_status_string(VF_E_NO_MODEL));
    engine_models_free(&mm);
    return e;
}

static int decode_file(vf_context *ctx, const char *path, vf_image_buffer *buf) {
    uint8_t *bytes;
    size_t n;
    int rd = read_all(path, &bytes, &n);
    if (rd) {
        printf("{\"image\":\"%s\",\"error\":\"io\",\"message\":\"%s\"}\n", path,
               rd == -2 ? "empty file (0 bytes)" : rd == -3 ? "file over 256 MiB" : "cannot read");
        return 2;
    }
    vf_status s = vf_image_decode(ctx, bytes, n, NULL, buf, NULL);
    free(bytes);
    if (s) { printf("{\"image\":\"%s\",\"error\":\"%s\",\"message\":\"%s\"}\n", path, vf_status_string(s), vf_context_last_error(ctx)); return 1; }
    return 0;
}

int vf_cli_analyze(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *const *paths, int n) {
    vf_engine *e = vf_cli_engine(ctx, models_dir, pad_dir);
    if (!e) return 2;
    int rc = 0;
    static char json[1 << 16];
    for (int i = 0; i < n; i++) {
        vf_image_buffer buf;
        int d = decode_file(ctx, paths[i], &buf);
        if (d) { rc = rc > d ? rc : d; continue; }
        vf_session_config cfg = vf_session_default_config();
        cfg.good_frames = 1;          /* a still image is the whole capture */
        cfg.liveness_frames = 1;
        cfg.max_width = buf.width;
        cfg.max_height = buf.height;
        vf_session *s = NULL;
        vf_frame f = {buf.width, buf.height, buf.stride, (int)buf.format, buf.data, 0};
        vf_frame_status st;
        vf_status r = vf_session_create(e, &cfg, &s);
        if (!r) r = vf_session_push_frame(s, &f, &st);
        if (r) {
            printf("{\"image\":\"%s\",\"error\":\"%s\",\"message\":\"%s\"}\n", paths[i], vf_status_string(r), vf_context_last_error(ctx));
            rc = 1;
        } else {
            vf_frame_status_json(&st, json, sizeof json, NULL);
            printf("{\"image\":\"%s\",\"width\":%d,\"height\":%d,\"frame\":%s", paths[i], buf.width, buf.height, json);
            vf_session_result res;
            if (st.complete && vf_session_finish(s, &res) == VF_OK) {
                vf_session_result_json(s, &res, json, sizeof json, NULL);
                printf(",\"result\":%s", json);
            }
            printf("}\n");
        }
        vf_session_free(s);
        vf_image_buffer_free(&buf);
    }
    vf_engine_free(e);
    return rc;
}

/* Embedding of the face of an image file (vf_engine_embed_face's choice), whatever its capture
 * quality (an ID portrait is judged by its issuer, not by our selfie checks). */
static int embed_file(vf_context *ctx, vf_engine *e, const char *path, float *emb, int *dim) {
    vf_image_buffer buf;
    if (decode_file(ctx, path, &buf)) return 1;
    vf_frame f = {buf.width, buf.height, buf.stride, (int)buf.format, buf.data, 0};
    int nf = 0;
    vf_status st = vf_engine_embed_face(e, &f, emb, VF_EMBED_MAX_DIM, dim, &nf, NULL);
    if (st == VF_E_INVALID_ARG) printf("{\"image\":\"%s\",\"error\":\"no_face\",\"faces\":%d}\n", path, nf);
    else if (st) fprintf(stderr, "veriface: %s: %s\n", path, vf_context_last_error(ctx));
    vf_image_buffer_free(&buf);
    return st != VF_OK;
}

int vf_cli_compare(vf_context *ctx, const char *models_dir, const char *a, const char *b) {
    vf_engine *e = vf_cli_engine(ctx, models_dir, models_dir);
    if (!e) return 2;
    int rc = 2;
    if (!e->emb) { fprintf(stderr, "veriface: %s not found in %s\n", vf_model_roles(NULL)[VF_ROLE_EMBEDDER].file, models_dir); vf_engine_free(e); return 2; }
    static float ea[VF_EMBED_MAX_DIM], eb[VF_EMBED_MAX_DIM];
    int da = 0, db = 0;
    if (!embed_file(ctx, e, a, ea, &da) && !embed_file(ctx, e, b, eb, &db) && da == db) {
        float sim = vf_match_similarity(ea, eb, da);
        vf_match_band band = vf_match_band_of(sim);
        printf("{\"a\":\"%s\",\"b\":\"%s\",\"similarity\":%.4f,\"band\":\"%s\"}\n", a, b, sim,
               band == VF_MATCH_STRONG ? "strong" : band == VF_MATCH_WEAK ? "weak" : "none");
        rc = 0;
    }
    vf_engine_free(e);
    return rc;
}

/* ---- bench-pipeline (a benchmark, not a test) ----------------------------------------------- */

static double wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_ms(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int vf_cli_bench_pipeline(vf_context *ctx, const char *models_dir, const char *pad_dir, const char *frame_path, vf_backend be,
                          int threads, int runs) {
    vf_image_buffer buf;
    if (decode_file(ctx, frame_path, &buf)) return 2;
    vf_engine_models mm;
    engine_models_read(models_dir, pad_dir, &mm);
    vf_model_options mo = vf_model_default_options();
    mo.backend = be;
    vf_engine *e = NULL;
    vf_session *s = NULL;
    vf_session_config cfg = vf_session_default_config();
    cfg.max_width = buf.width > 16 ? buf.width : 16;
    cfg.max_height = buf.height > 16 ? buf.height : 16;
    int rc = 1;
    double *tp = malloc(sizeof *tp * (size_t)runs * (size_t)cfg.good_frames), *tf = malloc(sizeof *tf * (size_t)runs);
    double *tl = malloc(sizeof *tl * (size_t)runs), *te = malloc(sizeof *te * (size_t)runs);
    int np = 0, nf = 0;
    vf_status r = vf_engine_create(ctx, &mm, &mo, &e);
    if (!r) r = vf_session_create(e, &cfg, &s);
    int all = 1;
    for (int i = 0; i < VF_ROLE_COUNT; i++) all &= mm.bytes[i] != NULL;
    if (r || !all || !tp || !tf || !tl || !te) {
        fprintf(stderr, "veriface: bench-pipeline needs every model (PAD in %s): %s\n", pad_dir, vf_context_last_error(ctx));
        goto out;
    }
    /* The same frame K times is one capture (motion 0); two warm-up captures, then `runs`. */
    vf_frame f = {buf.width, buf.height, buf.stride, (int)buf.format, buf.data, 0};
    for (int k = -2; k < runs; k++) {
        vf_session_reset(s);
        vf_frame_status st;
        memset(&st, 0, sizeof st);
        for (int i = 0; i < cfg.good_frames; i++) {
            double t0 = wall_ms();
            if (vf_session_push_frame(s, &f, &st)) { fprintf(stderr, "veriface: push: %s\n", vf_context_last_error(ctx)); goto out; }
            if (k >= 0) tp[np++] = wall_ms() - t0;
        }
        if (!st.complete) { fprintf(stderr, "veriface: %s is not a good frame (%s): pick another\n", frame_path, vf_guidance_string(st.quality.guidance)); goto out; }
        vf_session_result res;
        double t0 = wall_ms();
        if (vf_session_finish(s, &res) || res.liveness_status || res.embedding_status) {
            fprintf(stderr, "veriface: finish: %s\n", vf_context_last_error(ctx));
            goto out;
        }
        if (k >= 0) { tf[nf] = wall_ms() - t0; tl[nf] = res.liveness_ms; te[nf] = res.embedding_ms; nf++; }
    }
    qsort(tp, (size_t)np, sizeof *tp, cmp_ms);
    qsort(tf, (size_t)nf, sizeof *tf, cmp_ms);
    qsort(tl, (size_t)nf, sizeof *tl, cmp_ms);
    qsort(te, (size_t)nf, sizeof *te, cmp_ms);
    printf("{\"frame\":\"%s\",\"width\":%d,\"height\":%d,\"backend\":\"%s\",\"threads\":%d,\"captures\":%d,\"push_ms\":%.3f,\"push_p90_ms\":%.3f,"
           "\"finish_ms\":%.3f,\"finish_p90_ms\":%.3f,\"liveness_ms\":%.3f,\"embedding_ms\":%.3f,\"liveness_frames\":%d}\n",
           frame_path, buf.width, buf.height, vf_backend_name(be), threads, runs, tp[np / 2], tp[(np * 9) / 10], tf[nf / 2],
           tf[(nf * 9) / 10], tl[nf / 2], te[nf / 2], cfg.liveness_frames);
    rc = 0;
out:
    free(tp); free(tf); free(tl); free(te);
    vf_session_free(s);
    vf_engine_free(e);
    engine_models_free(&mm);
    vf_image_buffer_free(&buf);
    return rc;
}
