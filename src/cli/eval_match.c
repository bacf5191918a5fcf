/* eval_match.c - `veriface eval-match`: face matching on labelled pairs (image_a,image_b,same).
 *
 * Each image is decoded, detected, meshed and embedded once (the embedding is cached for every
 * pair that uses it). A pair whose image gives no embedding is skipped, and the summary counts the
 * skips by reason: the figures cover only the pairs used. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct match_pair { int a, b, same; float sim; } match_pair;

static int cmp_desc(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return a > b ? -1 : a < b;
}

/* TMR at the threshold that lets at most floor(fmr * impostors) impostor pairs through. */
static double tmr_at(const float *gen, int n_gen, const float *imp_sorted_desc, int n_imp, double fmr, float *thr) {
    int allowed = (int)floor(fmr * n_imp);
    *thr = allowed < n_imp ? imp_sorted_desc[allowed] : -1.0f; /* accept sim > thr */
    int acc = 0;
    for (int i = 0; i < n_gen; i++) acc += gen[i] > *thr;
    return n_gen && n_imp ? (double)acc / n_gen : NAN;
}

/* Embed the face of one image as the product chooses it (vf_face_pick_still, as
 * vf_engine_embed_face does): VF_EVAL_OK with emb[0..*dim), or why not. */
static vf_eval_skip embed_image(vf_context *ctx, const vf_cli_models *M, vf_model *em, const vf_embed_crop *crop, const char *path,
                                float *emb, int *dim, char *msg, size_t msgn) {
    vf_image_buffer buf;
    vf_eval_skip why = vf_eval_read_image(ctx, path, &buf, msg, msgn);
    if (why != VF_EVAL_OK) return why;
    vf_image img = vf_image_buffer_view(&buf);
    vf_face_box faces[VF_DETECT_MAX_FACES];
    vf_face_landmarks lm;
    int nf = 0, pick = -1;
    if (vf_detect_faces(ctx, M->detector, &img, NULL, faces, &nf) != VF_OK) why = VF_EVAL_FAILED;
    else if (nf == 0) why = VF_EVAL_NO_FACE;
    else if (vf_face_pick_still(ctx, M->mesh, &img, faces, nf, &lm, &pick) != VF_OK) why = VF_EVAL_FAILED;
    else if (pick < 0) why = VF_EVAL_NO_LANDMARKS;
    else if (vf_embed_run_crop(ctx, em, crop, &img, lm.five, emb, dim) != VF_OK) why = VF_EVAL_FAILED;
    if (why == VF_EVAL_FAILED) snprintf(msg, msgn, "%s", vf_context_last_error(ctx));
    else if (why == VF_EVAL_NO_FACE) snprintf(msg, msgn, "no face detected");
    else if (why == VF_EVAL_NO_LANDMARKS) snprintf(msg, msgn, "face mesh confirmed none of the %d detected faces", nf);
    vf_image_buffer_free(&buf);
    return why;
}

static void print_counts(const int *count) {
    printf("{");
    for (int r = 1, first = 1; r < VF_EVAL_N_SKIPS; r++) {
        if (!count[r]) continue;
        printf("%s\"%s\":%d", first ? "" : ",", vf_eval_skip_name((vf_eval_skip)r), count[r]);
        first = 0;
    }
    printf("}");
}

/* FMR and TMR of "accept sim >= at" (the session's band rule). */
static void print_band(const char *name, float at, const float *gen, int n_gen, const float *imp, int n_imp) {
    int g = 0, i = 0;
    for (int k = 0; k < n_gen; k++) g += gen[k] >= at;
    for (int k = 0; k < n_imp; k++) i += imp[k] >= at;
    printf("\"%s\":{\"at\":%.4g,\"impostors_accepted\":%d,\"fmr\":", name, at, i);
    vf_eval_json_num(stdout, n_imp ? (double)i / n_imp : NAN, 5);
    printf(",\"tmr\":");
    vf_eval_json_num(stdout, n_gen ? (double)g / n_gen : NAN, 4);
    printf("}");
}

int vf_cli_eval_match(vf_context *ctx, const char *models_dir, const char *pairs_csv, const char *embed_name, const float *range,
                      int flip, int scores) {
    vf_cli_models M;
    if (vf_cli_models_load(ctx, models_dir, models_dir, &M)) return 2;
    char p[1024], err[300], role_name[256];
    if (!embed_name) { /* the embedder role's file without ".vfm" */
        snprintf(role_name, sizeof role_name, "%s", vf_model_roles(NULL)[VF_ROLE_EMBEDDER].file);
        char *dot = strrchr(role_name, '.');
        if (dot) *dot = 0;
        embed_name = role_name;
    }
    snprintf(p, sizeof p, "%s/%s.vfm", models_dir, embed_name);
    vf_model *em = vf_cli_load_model(ctx, p, 0);
    vf_embed_crop crop = {0};
    if (em && vf_embed_crop_of(ctx, em, &crop)) {
        fprintf(stderr, "veriface: %s: %s\n", p, vf_context_last_error(ctx));
        vf_model_free(em);
        em = NULL;
    }
    if (em && range) {
        crop.lo = range[0];
        crop.hi = range[1];
        crop.order = VF_CHANNELS_RGB;
    }
    if (em) crop.flip = flip;
    vf_csv c;
    if (!em || vf_csv_open(&c, pairs_csv, err, sizeof err)) {
        if (em) fprintf(stderr, "veriface: %s\n", err);
        vf_model_free(em);
        vf_cli_models_free(&M);
        return 2;
    }
    char *dir = vf_eval_dirname(pairs_csv);
    vf_strtab names = {0};   /* image paths as written in the CSV (relative to its directory) */
    match_pair *pairs = NULL;
    int n = 0, cap = 0, bad_rows = 0, rc = dir ? 0 : 2;
    int nf = vf_csv_next(&c, err, sizeof err);
    if (nf > 0 && strcmp(c.field[0], "image_a")) {
        fprintf(stderr, "veriface: %s: no header (image_a,image_b,same): line 1 read as data\n", pairs_csv);
    } else if (nf > 0) {
        nf = vf_csv_next(&c, err, sizeof err);
    }
    for (; nf > 0 && rc == 0; nf = vf_csv_next(&c, err, sizeof err)) {
        const char *why = nf < 3 ? "fewer than 3 fields (image_a,image_b,same)"
                          : !c.field[0][0] || !c.field[1][0] ? "no image"
                          : strcmp(c.field[2], "0") && strcmp(c.field[2], "1") ? "same is neither 0 nor 1"
                          : NULL;
        if (why) {
            fprintf(stderr, "veriface: %s:%d: %s: row skipped\n", pairs_csv, c.line, why);
            bad_rows++;
            continue;
        }
        if (n == cap) {
            int nc = cap ? 2 * cap : 1024;
            match_pair *np = realloc(pairs, sizeof *np * (size_t)nc);
            if (!np) { rc = 2; break; }
            pairs = np;
            cap = nc;
        }
        match_pair *q = &pairs[n];
        q->a = vf_strtab_add(&names, c.field[0]);
        q->b = vf_strtab_add(&names, c.field[1]);
        q->same = c.field[2][0] == '1';
        if (q->a < 0 || q->b < 0) rc = 2;
        else n++;
    }
    if (nf < 0) { fprintf(stderr, "veriface: %s: %s (rows after it are not read)\n", pairs_csv, err); rc = 1; }
    vf_csv_close(&c);

    /* one embedding per image, computed once */
    int n_img = names.n, dim = 0, failed = 0, img_skips[VF_EVAL_N_SKIPS] = {0}, pair_skips[VF_EVAL_N_SKIPS] = {0};
    float **emb = calloc((size_t)n_img + 1, sizeof *emb);
    float tmp[VF_EMBED_MAX_DIM];
    vf_eval_skip *why = calloc((size_t)n_img + 1, sizeof *why);
    if (!emb || !why) rc = 2;
    for (int i = 0; i < n_img && rc != 2; i++) {
        char *path = vf_eval_join(dir, names.s[i]), msg[300];
        why[i] = path ? embed_image(ctx, &M, em, &crop, path, tmp, &dim, msg, sizeof msg) : VF_EVAL_NO_MEMORY;
        if (why[i] == VF_EVAL_OK && !(emb[i] = malloc(sizeof *tmp * (size_t)dim))) why[i] = VF_EVAL_NO_MEMORY;
        if (why[i] == VF_EVAL_OK) {
            memcpy(emb[i], tmp, sizeof *tmp * (size_t)dim);
        } else {
            failed++;
            img_skips[why[i]]++;
            printf("{\"image\":");
            vf_eval_json_str(stdout, names.s[i]);
            printf(",\"skipped\":\"%s\",\"message\":", vf_eval_skip_name(why[i]));
            vf_eval_json_str(stdout, path ? msg : "out of memory");
            printf("}\n");
        }
        free(path);
        if ((i + 1) % 250 == 0) fprintf(stderr, "veriface: eval-match: %d of %d images\n", i + 1, n_img);
    }

    float *gen = malloc(sizeof *gen * ((size_t)n + 1)), *imp = malloc(sizeof *imp * ((size_t)n + 1));
    int n_gen = 0, n_imp = 0, skipped = 0;
    double gmean = 0, imean = 0;
    if (!gen || !imp) rc = 2;
    for (int i = 0; i < n && rc != 2; i++) {
        match_pair *q = &pairs[i];
        /* a pair is skipped for its first image that has no embedding */
        vf_eval_skip r = why[q->a] != VF_EVAL_OK ? why[q->a] : why[q->b];
        if (r != VF_EVAL_OK) { pair_skips[r]++; skipped++; continue; }
        q->sim = vf_embed_similarity(emb[q->a], emb[q->b], dim);
        if (scores) {
            printf("{\"a\":");
            vf_eval_json_str(stdout, names.s[q->a]);
            printf(",\"b\":");
            vf_eval_json_str(stdout, names.s[q->b]);
            printf(",\"same\":%d,\"similarity\":%.6f}\n", q->same, q->sim);
        }
        if (q->same) { gen[n_gen++] = q->sim; gmean += q->sim; }
        else { imp[n_imp++] = q->sim; imean += q->sim; }
    }
    if (rc == 2) {
        fprintf(stderr, "veriface: eval-match: out of memory\n");
    } else {
        qsort(imp, (size_t)n_imp, sizeof *imp, cmp_desc);
        float t1, t01;
        double tmr1 = tmr_at(gen, n_gen, imp, n_imp, 0.01, &t1), tmr01 = tmr_at(gen, n_gen, imp, n_imp, 0.001, &t01);
        double imp_max = n_imp ? imp[0] : NAN;
        vf_eval_sort(gen, n_gen);
        vf_eval_sort(imp, n_imp); /* ascending from here */
        double auc = vf_eval_auc(gen, n_gen, imp, n_imp);
        printf("{\"summary\":true,\"model\":\"%s\",\"crop\":%d,\"range\":[%.9g,%.9g],\"layout\":\"%s\",\"flip\":%s,\"images\":%d,"
               "\"no_embedding\":%d,\"image_skips\":", embed_name, (int)crop.size, crop.lo, crop.hi,
               crop.order == VF_CHANNELS_BGR ? "BGR" : "RGB", crop.flip ? "true" : "false", n_img, failed);
        print_counts(img_skips);
        printf(",\"pairs\":%d,\"pairs_used\":%d,\"pairs_skipped\":%d,\"pair_skips\":", n, n - skipped, skipped);
        print_counts(pair_skips);
        printf(",\"bad_rows\":%d,\"genuine_pairs\":%d,\"impostor_pairs\":%d,\"auc\":", bad_rows, n_gen, n_imp);
        vf_eval_json_num(stdout, auc, 4);
        printf(",\"tmr_at_fmr_1pct\":");
        vf_eval_json_num(stdout, tmr1, 4);
        printf(",\"threshold_fmr_1pct\":");
        vf_eval_json_num(stdout, n_imp ? t1 : NAN, 4);
        printf(",\"tmr_at_fmr_0.1pct\":");
        vf_eval_json_num(stdout, tmr01, 4);
        printf(",\"threshold_fmr_0.1pct\":");
        vf_eval_json_num(stdout, n_imp ? t01 : NAN, 4);
        printf(",\"genuine_mean\":");
        vf_eval_json_num(stdout, n_gen ? gmean / n_gen : NAN, 4);
        printf(",\"impostor_mean\":");
        vf_eval_json_num(stdout, n_imp ? imean / n_imp : NAN, 4);
        printf(",\"impostor_max\":");
        vf_eval_json_num(stdout, imp_max, 4);
        printf(",\"bands\":{");
        print_band("strong", VF_MATCH_STRONG_DEFAULT, gen, n_gen, imp, n_imp);
        printf(",");
        print_band("weak", VF_MATCH_WEAK_DEFAULT, gen, n_gen, imp, n_imp);
        printf("}}\n");
    }
    for (int i = 0; emb && i < n_img; i++) free(emb[i]);
    free(emb);
    free(why);
    free(gen);
    free(imp);
    free(pairs);
    free(dir);
    vf_strtab_free(&names);
    vf_model_free(em);
    vf_cli_models_free(&M);
    return rc;
}
