/* test_model_load.c - the loader on hostile bytes: truncation at every length, every byte of the
 * header and tables flipped, targeted bad fields (each must give VF_E_MODEL with a message that
 * names the problem), and API misuse. Run under the sanitizer build too (tools/test).
 *   test_model_load [SEED.vfm]   SEED: write the test model there (the int8 and byte-planar f16
 *                                seed of tools/fuzz: tests/fuzz/corpus/fuzz_model_load/int8-fc.vfm) */
#include "vfm_builder.h"
#include "veriface.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_fail, g_pass;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

/* conv -> add(residual, relu) -> maxpool -> fc -> softmax, with an f16 constant (the conv weights,
 * byte-planar when conv_planar) and an int8 one (the FC weights, per output channel). */
static uint8_t *make_model(size_t *n, int fc_int8, int conv_planar) {
    vfb *b = vfb_new();
    float w[4 * 3 * 3 * 4], bias[4], fw[3 * 16];
    for (int i = 0; i < 144; i++) w[i] = (float)((i * 37) % 17 - 8) / 16;
    for (int i = 0; i < 4; i++) bias[i] = 0.25f * i;
    for (int i = 0; i < 48; i++) fw[i] = (float)((i * 11) % 7 - 3) / 8;
    int32_t xd[4] = {1, 4, 4, 4}, wd[4] = {4, 3, 3, 4}, bd = 4, pd[4] = {1, 2, 2, 4}, fd[2] = {3, 16}, yd[2] = {1, 3};
    uint32_t x = vfb_input(b, "input", 4, xd);
    uint32_t c = vfb_tensor(b, "conv", 4, xd), a = vfb_tensor(b, "add", 4, xd), p = vfb_tensor(b, "pool", 4, pd);
    uint32_t f = vfb_tensor(b, "fc", 2, yd), y = vfb_tensor(b, "prob", 2, yd);
    uint32_t in1[3] = {x, vfb_const(b, 4, wd, w, conv_planar ? 2 : 1), vfb_const(b, 1, &bd, bias, 0)};
    int32_t conv_ip[8] = {1, 1, 1, 1, 1, 1, 0, -1};
    vfb_op(b, 1, 3, in1, c, conv_ip, NULL);
    uint32_t in2[2] = {c, x};
    int32_t relu_ip[8] = {0, 0, 0, 0, 0, 0, 1, -1};
    float relu_fp[2] = {0, 1e30f};
    vfb_op(b, 4, 2, in2, a, relu_ip, relu_fp);
    uint32_t in3[1] = {a};
    int32_t pool_ip[8] = {2, 2, 0, 0, 0, 0, 2, 2};
    vfb_op(b, 12, 1, in3, p, pool_ip, NULL);
    uint32_t in4[2] = {p, fc_int8 ? vfb_const_i8(b, 2, fd, fw, 0) : vfb_const(b, 2, fd, fw, 0)};
    int32_t fc_ip[8] = {0, 0, 0, 0, 0, 0, 0, -1};
    vfb_op(b, 3, 2, in4, f, fc_ip, NULL);
    uint32_t in5[1] = {f};
    vfb_op(b, 11, 1, in5, y, NULL, NULL);
    vfb_output(b, y);
    uint8_t *bytes = vfb_finish(b, n);
    vfb_free(b);
    return bytes;
}

/* Load; if it loads, it must also run. Returns the status. */
static vf_status try_load(vf_context *ctx, const uint8_t *bytes, size_t n) {
    vf_model *m = NULL;
    vf_status s = vf_model_load(ctx, bytes, n, NULL, &m);
    if (s == VF_OK) {
        vf_tensor_info in;
        vf_model_input(m, 0, &in);
        memset(in.data, 0, in.count * sizeof(float));
        vf_model_invoke(m);
        vf_model_free(m);
    } else if (m != NULL) {
        g_fail++;
        printf("FAIL: failed load left a model handle\n");
    }
    return s;
}

static void expect_error(vf_context *ctx, const uint8_t *base, size_t n, size_t off, const void *patch, size_t plen,
                         const char *needle) {
    uint8_t *b = malloc(n);
    memcpy(b, base, n);
    memcpy(b + off, patch, plen);
    vf_status s = try_load(ctx, b, n);
    const char *msg = vf_context_last_error(ctx);
    CHECK(s == VF_E_MODEL && strstr(msg, needle), "patch at %zu: status %d, message '%s', expected '%s'", off, s, msg, needle);
    free(b);
}

int main(int argc, char **argv) {
    vf_context *ctx;
    CHECK(vf_context_create(NULL, &ctx) == VF_OK, "context");
    size_t n;
    uint8_t *good = make_model(&n, 1, 1);
    if (argc > 1) {
        FILE *f = fopen(argv[1], "wb");
        CHECK(f && fwrite(good, 1, n, f) == n, "write %s", argv[1]);
        if (f) fclose(f);
    }
    CHECK(try_load(ctx, good, n) == VF_OK, "valid model fails: %s", vf_context_last_error(ctx));

    /* truncation at every length */
    int trunc_bad = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t *b = malloc(k ? k : 1);
        memcpy(b, good, k);
        if (try_load(ctx, b, k) != VF_E_MODEL) trunc_bad++;
        free(b);
    }
    CHECK(trunc_bad == 0, "%d truncated lengths did not give VF_E_MODEL", trunc_bad);

    /* every byte before the data section flipped (0xFF xor and +1): never a crash; errors say why */
    size_t data_off;
    memcpy(&data_off, good + 32, sizeof data_off);
    int flips_ok = 0, flips_err = 0, flips_other = 0;
    for (size_t k = 0; k < data_off; k++)
        for (int v = 0; v < 2; v++) {
            uint8_t *b = malloc(n);
            memcpy(b, good, n);
            b[k] = v ? (uint8_t)(b[k] + 1) : (uint8_t)(b[k] ^ 0xFF);
            vf_status s = try_load(ctx, b, n);
            if (s == VF_OK) flips_ok++;
            else if (s == VF_E_MODEL && vf_context_last_error(ctx)[0]) flips_err++;
            else { flips_other++; printf("flip at %zu (v%d): status %d '%s'\n", k, v, s, vf_context_last_error(ctx)); }
            free(b);
        }
    CHECK(flips_other == 0, "%d flips gave a status other than OK/VF_E_MODEL with message", flips_other);
    printf("byte flips: %d still valid (names, values), %d refused\n", flips_ok, flips_err);

    /* targeted fields */
    uint32_t big = 0xFFFFFFF0u, zero = 0, neg = 0xFFFFFFFFu, opbad = 99;
    uint16_t v2 = 2;
    expect_error(ctx, good, n, 0, "XFM", 3, "magic");
    expect_error(ctx, good, n, 4, &v2, 2, "version");
    expect_error(ctx, good, n, 12, &big, 4, "tensor count");
    expect_error(ctx, good, n, 48, &zero, 4, "header says");
    /* tensor 0 is the input: give it dim -1 (offset 64 + 8) */
    expect_error(ctx, good, n, 64 + 8, &neg, 4, "dim");
    /* first op starts after the tensor table */
    uint32_t nt;
    memcpy(&nt, good + 12, 4);
    size_t op0 = 64 + (size_t)nt * 48;
    expect_error(ctx, good, n, op0, &opbad, 2, "unknown op code");
    expect_error(ctx, good, n, op0 + 4, &big, 4, "only");                 /* input id out of range */
    expect_error(ctx, good, n, op0 + 24, &zero, 4, "strides");            /* stride 0 */
    uint32_t later = 5; /* op 0 reading tensor 5 ('prob', written by the last op) */
    expect_error(ctx, good, n, op0 + 4, &later, 4, "before it is written");
    uint32_t weights_id = 6; /* tensors: 0 input, 1..5 activations, 6 the conv weights */
    expect_error(ctx, good, n, op0 + 64 + 20, &weights_id, 4, "is not an activation");
    uint32_t conv_out = 1; /* op 1 writing what op 0 wrote */
    expect_error(ctx, good, n, op0 + 64 + 20, &conv_out, 4, "already written");

    /* int8 fields of the FC weights (tensor 8): the axis, the scales, the payload size */
    size_t t8 = 64 + 8 * 48;
    uint8_t axis2 = 2, dtype1 = 1, dtype5 = 5;
    expect_error(ctx, good, n, 64 + 6 * 48 + 4, &dtype5, 1, "unknown dtype 5");
    expect_error(ctx, good, n, 64 + 6 * 48 + 4, &dtype1, 1, "data bytes, expected"); /* planar f16 read as f32 */
    expect_error(ctx, good, n, t8 + 7, &axis2, 1, "quantisation axis 2 not below the rank");
    expect_error(ctx, good, n, 64 + 6 * 48 + 7, &axis2, 1, "not int8");
    expect_error(ctx, good, n, t8 + 4, &dtype1, 1, "data bytes, expected");
    expect_error(ctx, good, n, t8 + 40, &big, 4, "reserved bytes");
    uint64_t fc_off;
    memcpy(&fc_off, good + t8 + 24, 8);
    float nan = 0.0f / 0.0f, negs = -1.0f;
    expect_error(ctx, good, n, data_off + fc_off + 4, &nan, 4, "int8 scale 1 is");
    expect_error(ctx, good, n, data_off + fc_off, &negs, 4, "int8 scale 0 is -1");
    /* the dequantised FC against the same model with f32 FC weights, and the byte-planar conv
     * weights against plain f16 (the same values: equal outputs), on a ramp input */
    size_t n32, nplain;
    uint8_t *f32 = make_model(&n32, 0, 1), *plain = make_model(&nplain, 1, 0);
    CHECK(nplain == n && memcmp(plain, good, n) != 0 && plain[6] == 1 && good[6] == 2, "format 1.2 only with byte-planar f16");
    float out[3][3];
    for (int k = 0; k < 3; k++) {
        vf_model *mk = NULL;
        vf_tensor_info ti;
        CHECK(vf_model_load(ctx, k == 1 ? f32 : k == 2 ? plain : good, k == 1 ? n32 : n, NULL, &mk) == VF_OK, "load %d", k);
        if (!mk) continue;
        vf_model_input(mk, 0, &ti);
        for (size_t i = 0; i < ti.count; i++) ti.data[i] = (float)(i % 7) / 7 - 0.4f;
        vf_model_invoke(mk);
        vf_model_output(mk, 0, &ti);
        memcpy(out[k], ti.data, sizeof out[k]);
        vf_model_free(mk);
    }
    float worst = 0;
    for (int i = 0; i < 3; i++) {
        float d = out[0][i] - out[1][i];
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    CHECK(worst < 0.01f && worst > 0, "int8 vs f32 FC: softmax differs by %g (want (0, 0.01))", worst);
    CHECK(!memcmp(out[0], out[2], sizeof out[0]), "byte-planar vs plain f16 conv weights: outputs differ");
    free(f32);
    free(plain);

    /* API misuse */
    vf_model *m = NULL;
    CHECK(vf_model_load(NULL, good, n, NULL, &m) == VF_E_INVALID_ARG, "NULL ctx");
    CHECK(vf_model_load(ctx, good, n, NULL, NULL) == VF_E_INVALID_ARG, "NULL out");
    CHECK(vf_model_load(ctx, NULL, n, NULL, &m) == VF_E_INVALID_ARG && m == NULL, "NULL bytes");
    vf_model_options mo = vf_model_default_options();
    mo.backend = (vf_backend)42;
    CHECK(vf_model_load(ctx, good, n, &mo, &m) == VF_E_UNSUPPORTED, "unknown backend");
    CHECK(vf_model_load(ctx, good, n, NULL, &m) == VF_OK, "reload");
    vf_tensor_info t;
    CHECK(vf_model_input(m, 1, &t) == VF_E_INVALID_ARG, "input index out of range");
    CHECK(vf_model_output(m, -1, &t) == VF_E_INVALID_ARG, "output index out of range");
    CHECK(vf_model_invoke(NULL) == VF_E_INVALID_ARG, "invoke NULL");
    vf_model_free(m);
    vf_model_free(NULL);
    CHECK(strcmp(vf_status_string(VF_E_MODEL), "model is corrupt, truncated or inconsistent") == 0, "status string");

    free(good);
    vf_context_free(ctx);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
