/* vfm_builder.c - minimal .vfm writer for tests. */
#include "vfm_builder.h"

#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t name; uint8_t dtype, kind, rank, axis; int32_t dims[4]; uint8_t *data; size_t nbytes; } tdef;
typedef struct { uint16_t op; uint8_t n_in; uint32_t in[4], out; int32_t ip[8]; float fp[2]; } odef;

struct vfb {
    tdef t[512]; uint32_t nt;
    odef o[512]; uint32_t no;
    uint32_t in[16], nin, out[16], nout;
    char strings[8192]; uint32_t ns;
};

vfb *vfb_new(void) { vfb *b = calloc(1, sizeof *b); b->ns = 1; /* offset 0 = "" */ return b; }
void vfb_free(vfb *b) { if (!b) return; for (uint32_t i = 0; i < b->nt; i++) free(b->t[i].data); free(b); }

static uint32_t add_string(vfb *b, const char *s) {
    if (!s) return VFB_NONE;
    uint32_t off = b->ns;
    size_t n = strlen(s) + 1;
    memcpy(b->strings + off, s, n);
    b->ns += (uint32_t)n;
    return off;
}

static uint32_t add_tensor(vfb *b, const char *name, uint8_t kind, int rank, const int32_t *dims) {
    tdef *t = &b->t[b->nt];
    memset(t, 0, sizeof *t);
    t->name = add_string(b, name);
    t->dtype = 1;
    t->kind = kind;
    t->rank = (uint8_t)rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    return b->nt++;
}

uint32_t vfb_input(vfb *b, const char *name, int rank, const int32_t *dims) {
    uint32_t id = add_tensor(b, name, 2, rank, dims);
    b->in[b->nin++] = id;
    return id;
}

static uint16_t to_half(float f) { /* round to nearest even; test data stays in the normal range */
    uint32_t u; memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, man = u & 0x7fffff;
    if (exp == 0) return (uint16_t)sign;
    int e = (int)exp - 127 + 15;
    if (e <= 0) return (uint16_t)sign;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    uint32_t h = sign | (uint32_t)e << 10 | man >> 13, rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (uint16_t)h;
}

uint32_t vfb_const(vfb *b, int rank, const int32_t *dims, const float *data, int f16) {
    uint32_t id = add_tensor(b, NULL, 1, rank, dims);
    tdef *t = &b->t[id];
    size_t n = 1;
    for (int d = 0; d < rank; d++) n *= (size_t)dims[d];
    t->dtype = f16 == 2 ? 4 : f16 ? 2 : 1;
    t->nbytes = n * (f16 ? 2 : 4);
    t->data = malloc(t->nbytes);
    for (size_t i = 0; i < n; i++) {
        uint16_t h = to_half(data[i]);
        if (f16 == 2) { t->data[i] = (uint8_t)h; t->data[n + i] = (uint8_t)(h >> 8); } /* byte-planar */
        else if (f16) memcpy(t->data + 2 * i, &h, 2);
        else memcpy(t->data + 4 * i, &data[i], 4);
    }
    return id;
}

uint32_t vfb_const_i8(vfb *b, int rank, const int32_t *dims, const float *data, int axis) {
    uint32_t id = add_tensor(b, NULL, 1, rank, dims);
    tdef *t = &b->t[id];
    size_t n = 1, inner = 1, C = (size_t)dims[axis];
    for (int d = 0; d < rank; d++) n *= (size_t)dims[d];
    for (int d = axis + 1; d < rank; d++) inner *= (size_t)dims[d];
    t->dtype = 3;
    t->axis = (uint8_t)axis;
    t->nbytes = 4 * C + n;
    t->data = calloc(1, t->nbytes);
    float *scale = calloc(C, sizeof *scale);
    for (size_t i = 0; i < n; i++) { float a = data[i] < 0 ? -data[i] : data[i]; if (a > scale[i / inner % C]) scale[i / inner % C] = a; }
    for (size_t c = 0; c < C; c++) { scale[c] /= 127; memcpy(t->data + 4 * c, &scale[c], 4); }
    for (size_t i = 0; i < n; i++) {
        float s = scale[i / inner % C], v = s > 0 ? data[i] / s : 0;
        t->data[4 * C + i] = (uint8_t)(int8_t)(v < 0 ? v - 0.5f : v + 0.5f);
    }
    free(scale);
    return id;
}

uint32_t vfb_tensor(vfb *b, const char *name, int rank, const int32_t *dims) { return add_tensor(b, name, 0, rank, dims); }

void vfb_op(vfb *b, int op, int n_in, const uint32_t *in, uint32_t out, const int32_t ip[8], const float fp[2]) {
    odef *o = &b->o[b->no++];
    memset(o, 0, sizeof *o);
    o->op = (uint16_t)op;
    o->n_in = (uint8_t)n_in;
    for (int k = 0; k < 4; k++) o->in[k] = k < n_in ? in[k] : VFB_NONE;
    o->out = out;
    if (ip) memcpy(o->ip, ip, sizeof o->ip);
    if (fp) memcpy(o->fp, fp, sizeof o->fp);
}

void vfb_output(vfb *b, uint32_t id) { b->out[b->nout++] = id; }

static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

uint8_t *vfb_finish(vfb *b, size_t *size) {
    size_t tables = 64 + (size_t)b->nt * 48 + (size_t)b->no * 64 + 4 * (b->nin + b->nout) + b->ns;
    size_t data_off = (tables + 63) / 64 * 64, data_bytes = 0;
    for (uint32_t i = 0; i < b->nt; i++)
        if (b->t[i].kind == 1) data_bytes += (b->t[i].nbytes + 63) / 64 * 64;
    size_t total = data_off + data_bytes;
    uint8_t *f = calloc(1, total);
    memcpy(f, "VFM\x1a", 4);
    uint16_t v1 = 1, v0 = 0;
    for (uint32_t i = 0; i < b->nt; i++) if (b->t[i].dtype == 3 && v0 < 1) v0 = 1; /* 1.1: int8 */
    for (uint32_t i = 0; i < b->nt; i++) if (b->t[i].dtype == 4) v0 = 2;           /* 1.2: byte-planar f16 */
    memcpy(f + 4, &v1, 2); memcpy(f + 6, &v0, 2);
    w32(f + 8, 64); w32(f + 12, b->nt); w32(f + 16, b->no); w32(f + 20, b->nin); w32(f + 24, b->nout);
    w32(f + 28, b->ns); w64(f + 32, data_off); w64(f + 40, data_bytes); w64(f + 48, total); w32(f + 56, VFB_NONE);
    uint8_t *p = f + 64;
    size_t dpos = 0;
    for (uint32_t i = 0; i < b->nt; i++, p += 48) {
        tdef *t = &b->t[i];
        w32(p, t->name); p[4] = t->dtype; p[5] = t->kind; p[6] = t->rank; p[7] = t->axis;
        for (int d = 0; d < 4; d++) w32(p + 8 + 4 * d, (uint32_t)t->dims[d]);
        if (t->kind == 1) {
            w64(p + 24, dpos); w64(p + 32, t->nbytes);
            memcpy(f + data_off + dpos, t->data, t->nbytes);
            dpos += (t->nbytes + 63) / 64 * 64;
        }
    }
    for (uint32_t i = 0; i < b->no; i++, p += 64) {
        odef *o = &b->o[i];
        memcpy(p, &o->op, 2); p[2] = o->n_in; p[3] = 1;
        for (int k = 0; k < 4; k++) w32(p + 4 + 4 * k, o->in[k]);
        w32(p + 20, o->out);
        for (int k = 0; k < 8; k++) w32(p + 24 + 4 * k, (uint32_t)o->ip[k]);
        memcpy(p + 56, o->fp, 8);
    }
    for (uint32_t i = 0; i < b->nin; i++, p += 4) w32(p, b->in[i]);
    for (uint32_t i = 0; i < b->nout; i++, p += 4) w32(p, b->out[i]);
    memcpy(p, b->strings, b->ns);
    *size = total;
    return f;
}
