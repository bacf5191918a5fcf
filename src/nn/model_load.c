/* model_load.c - parse and validate a .vfm (models/FORMAT.md) from untrusted bytes.
 *
 * Every offset and count is bounds- and overflow-checked before it is used; a failure returns
 * VF_E_MODEL with a message naming the field. Constants are widened (f16, plain or byte-planar) or
 * dequantised (int8) to f32 at load, each in its own block: the backends only ever see f32. */
#include "graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 64u
#define TENSOR_BYTES 48u
#define OP_BYTES 64u
#define MAX_TENSORS 65536u
#define MAX_OPS 65536u
#define MAX_IO 16u
#define MAX_STRINGS (1u << 20)
#define MAX_ELEMENTS ((size_t)1 << 28)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf32(const uint8_t *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE binary16 -> binary32, exact for every value (subnormals, inf, nan included). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        u = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign;
    } else { /* subnormal: normalise */
        int e = -1;
        do { e++; man <<= 1; } while (!(man & 0x400));
        u = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#define BAD(...) vf__fail(ctx, VF_E_MODEL, __VA_ARGS__)

static vf_status read_string(vf_context *ctx, vf_graph *g, uint32_t off, const char *what,
                             uint32_t index, const char **out) {
    if (off == VF_NONE) { *out = ""; return VF_OK; }
    if (off >= g->strings_bytes)
        return BAD("%s %u: name offset %u is outside the string table (%zu bytes)", what, index, off, g->strings_bytes);
    *out = g->strings + off;
    return VF_OK;
}

static vf_status load_tensors(vf_context *ctx, vf_graph *g, const uint8_t *tab, uint64_t data_bytes) {
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const uint8_t *r = tab + (size_t)i * TENSOR_BYTES;
        vf_tensor *t = &g->tensors[i];
        vf_status s = read_string(ctx, g, rd32(r), "tensor", i, &t->name);
        if (s) return s;
        uint8_t dtype = r[4], kind = r[5], rank = r[6], axis = r[7];
        if (dtype < 1 || dtype > 4) return BAD("tensor %u '%s': unknown dtype %u", i, t->name, dtype);
        if (kind > 2) return BAD("tensor %u '%s': unknown kind %u", i, t->name, kind);
        if (rank < 1 || rank > VF_MAX_DIMS) return BAD("tensor %u '%s': rank %u not in 1..4", i, t->name, rank);
        t->kind = kind;
        t->src_dtype = dtype;
        t->rank = rank;
        if (dtype == 3 ? axis >= rank : axis != 0)
            return BAD("tensor %u '%s': quantisation axis %u %s", i, t->name, axis, dtype == 3 ? "not below the rank" : "on a tensor that is not int8");
        t->quant_axis = axis;
        size_t count = 1;
        for (int d = 0; d < VF_MAX_DIMS; d++) {
            int32_t v = (int32_t)rd32(r + 8 + 4 * d);
            if (d < rank) {
                if (v < 1) return BAD("tensor %u '%s': dim %d is %d", i, t->name, d, v);
                if (!vf__mul_size(count, (size_t)v, &count) || count > MAX_ELEMENTS)
                    return BAD("tensor %u '%s': more than 2^28 elements", i, t->name);
                t->dims[d] = v;
            } else {
                if (v != 0) return BAD("tensor %u '%s': unused dim %d is %d, not 0", i, t->name, d, v);
                t->dims[d] = 1;
            }
        }
        t->count = count;
        uint64_t off = rd64(r + 24), nb = rd64(r + 32);
        if (kind == VF_TENSOR_CONSTANT) {
            /* int8: f32 scales, one per index of the axis, then the values; f16 (2, 4): 2 bytes each */
            uint64_t want = dtype == 3 ? 4u * (uint64_t)t->dims[axis] + count : (uint64_t)count * (dtype == 1 ? 4u : 2u);
            if (nb != want) return BAD("tensor %u '%s': %llu data bytes, expected %llu", i, t->name,
                                       (unsigned long long)nb, (unsigned long long)want);
            if (off % VF_ALIGN) return BAD("tensor %u '%s': data offset %llu not 64-aligned", i, t->name, (unsigned long long)off);
            if (off > data_bytes || nb > data_bytes - off)
                return BAD("tensor %u '%s': data [%llu, +%llu) outside the data section (%llu bytes)", i, t->name,
                           (unsigned long long)off, (unsigned long long)nb, (unsigned long long)data_bytes);
            t->arena_offset = (size_t)off; /* temporarily: offset in the data section */
        } else {
            if (dtype != 1) return BAD("tensor %u '%s': activations and inputs must be f32", i, t->name);
            if (off || nb) return BAD("tensor %u '%s': non-constant with data", i, t->name);
        }
        if (rd32(r + 40) || rd32(r + 44)) return BAD("tensor %u '%s': reserved bytes not 0", i, t->name);
        t->first_op = t->last_op = -1;
    }
    return VF_OK;
}

/* int8 -> f32: q * scale[channel]; a scale must be finite and >= 0 (symmetric: no zero point). */
static vf_status dequantize(vf_context *ctx, const vf_tensor *t, uint32_t id, const uint8_t *src, float *dst) {
    size_t channels = (size_t)t->dims[t->quant_axis], inner = 1;
    for (int d = t->quant_axis + 1; d < t->rank; d++) inner *= (size_t)t->dims[d];
    const uint8_t *q = src + 4 * channels;
    for (size_t c = 0; c < channels; c++) {
        float s = rdf32(src + 4 * c);
        if (!(s >= 0.0f && s <= 3.0e38f)) return BAD("tensor %u '%s': int8 scale %zu is %g", id, t->name, c, (double)s);
    }
    for (size_t k = 0; k < t->count; k++) dst[k] = (float)(int8_t)q[k] * rdf32(src + 4 * ((k / inner) % channels));
    return VF_OK;
}

/* Widen every constant to f32, each in its own aligned block, so a backend that repacks a
 * weight tensor can release the original (vf_graph_drop_constant). */
static vf_status load_weights(vf_context *ctx, vf_graph *g, const uint8_t *data) {
    g->weight_bytes = 0;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        vf_tensor *t = &g->tensors[i];
        if (t->kind != VF_TENSOR_CONSTANT) continue;
        const uint8_t *src = data + t->arena_offset;
        float *dst = vf__alloc_aligned(t->count * sizeof(float)); /* count <= 2^28: no overflow */
        if (!dst) return vf__fail(ctx, VF_E_NO_MEMORY, "cannot allocate %zu bytes for tensor %u", t->count * sizeof(float), i);
        t->data = dst; /* owned from here: freed with the graph on failure too */
        if (t->src_dtype == 1)
            for (size_t k = 0; k < t->count; k++) dst[k] = rdf32(src + 4 * k);
        else if (t->src_dtype == 2)
            for (size_t k = 0; k < t->count; k++) dst[k] = half_to_float(rd16(src + 2 * k));
        else if (t->src_dtype == 4) /* byte-planar: every low byte, then every high byte */
            for (size_t k = 0; k < t->count; k++) dst[k] = half_to_float((uint16_t)(src[k] | src[t->count + k] << 8));
        else if (dequantize(ctx, t, i, src, dst))
            return VF_E_MODEL;
        t->arena_offset = 0;
        g->weight_bytes += t->count * sizeof(float);
    }
    return VF_OK;
}

void vf_graph_drop_constant(vf_graph *g, uint32_t id) {
    vf_tensor *t = &g->tensors[id];
    if (t->kind != VF_TENSOR_CONSTANT || !t->data) return;
    vf__free_aligned(t->data);
    t->data = NULL;
    g->dropped_bytes += t->count * sizeof(float);
}

static bool has_epilogue(vf_op_type t) {
    return t == VF_OP_CONV2D || t == VF_OP_DWCONV2D || t == VF_OP_FC || (t >= VF_OP_ADD && t <= VF_OP_ACT);
}

/* Minimum and maximum data inputs per op (optional trailing inputs such as a bias may be absent). */
static void op_arity(vf_op_type t, int *lo, int *hi) {
    switch (t) {
    case VF_OP_CONV2D: case VF_OP_DWCONV2D: case VF_OP_FC: *lo = 2; *hi = 3; break;
    case VF_OP_ADD: case VF_OP_SUB: case VF_OP_MUL: case VF_OP_MIN: case VF_OP_MAX: *lo = *hi = 2; break;
    default: *lo = *hi = 1; break;
    }
}

static vf_status load_ops(vf_context *ctx, vf_graph *g, const uint8_t *tab) {
    for (uint32_t i = 0; i < g->n_ops; i++) {
        const uint8_t *r = tab + (size_t)i * OP_BYTES;
        vf_op *op = &g->ops[i];
        uint16_t code = rd16(r);
        if (code < 1 || code >= VF_OP_COUNT_) return BAD("op %u: unknown op code %u", i, code);
        op->type = (vf_op_type)code;
        const char *nm = vf_op_name(op->type);
        int lo, hi;
        op_arity(op->type, &lo, &hi);
        op->n_in = r[2];
        if (op->n_in < lo || op->n_in > hi) return BAD("op %u (%s): %d inputs, expected %d..%d", i, nm, op->n_in, lo, hi);
        if (r[3] != 1) return BAD("op %u (%s): %u outputs, expected 1", i, nm, r[3]);
        for (int k = 0; k < VF_MAX_OP_INPUTS; k++) {
            uint32_t id = rd32(r + 4 + 4 * k);
            op->in[k] = id;
            if (k >= op->n_in) {
                if (id != VF_NONE) return BAD("op %u (%s): unused input slot %d is %u", i, nm, k, id);
                continue;
            }
            if (id == VF_NONE) {
                if (k < lo) return BAD("op %u (%s): required input %d is missing", i, nm, k);
                continue;
            }
            if (id >= g->n_tensors) return BAD("op %u (%s): input %d is tensor %u, only %u tensors", i, nm, k, id, g->n_tensors);
            vf_tensor *t = &g->tensors[id];
            if (t->kind == VF_TENSOR_ACTIVATION && t->first_op < 0)
                return BAD("op %u (%s): input %d (tensor %u '%s') is read before it is written", i, nm, k, id, t->name);
            bool must_be_const = (k >= 1 && (op->type == VF_OP_CONV2D || op->type == VF_OP_DWCONV2D || op->type == VF_OP_FC));
            if (must_be_const && t->kind != VF_TENSOR_CONSTANT)
                return BAD("op %u (%s): weights/bias (tensor %u) must be constant", i, nm, id);
            if (k == 0 && op->type != VF_OP_ADD && op->type != VF_OP_SUB && op->type != VF_OP_MUL &&
                op->type != VF_OP_MIN && op->type != VF_OP_MAX && t->kind == VF_TENSOR_CONSTANT)
                return BAD("op %u (%s): data input is a constant (fold it at conversion)", i, nm);
            if (t->last_op < (int)i) t->last_op = (int)i;
        }
        uint32_t out = rd32(r + 20);
        if (out >= g->n_tensors) return BAD("op %u (%s): output is tensor %u, only %u tensors", i, nm, out, g->n_tensors);
        vf_tensor *ot = &g->tensors[out];
        if (ot->kind != VF_TENSOR_ACTIVATION) return BAD("op %u (%s): output tensor %u '%s' is not an activation", i, nm, out, ot->name);
        if (ot->first_op >= 0) return BAD("op %u (%s): tensor %u '%s' is already written by op %d", i, nm, out, ot->name, ot->first_op);
        ot->first_op = (int)i;
        op->out = out;
        for (int k = 0; k < 8; k++) op->ip[k] = (int32_t)rd32(r + 24 + 4 * k);
        op->fp[0] = rdf32(r + 56);
        op->fp[1] = rdf32(r + 60);

        op->act.kind = VF_ACT_NONE;
        if (has_epilogue(op->type)) {
            int32_t kind = op->ip[6];
            if (kind == VF_ACT_CLAMP) {
                if (isnan(op->fp[0]) || isnan(op->fp[1]) || op->fp[0] >= op->fp[1]) /* empty ranges: XNNPACK refuses them too */
                    return BAD("op %u (%s): clamp bounds [%g, %g] are invalid", i, nm, op->fp[0], op->fp[1]);
                op->act.kind = VF_ACT_CLAMP;
                op->act.lo = op->fp[0];
                op->act.hi = op->fp[1];
            } else if (kind == VF_ACT_PRELU) {
                uint32_t a = (uint32_t)op->ip[7];
                if (a >= g->n_tensors || g->tensors[a].kind != VF_TENSOR_CONSTANT)
                    return BAD("op %u (%s): PReLU alpha tensor %d is not a constant", i, nm, op->ip[7]);
                op->act.kind = VF_ACT_PRELU;
            } else if (kind != VF_ACT_NONE) {
                return BAD("op %u (%s): unknown activation kind %d", i, nm, kind);
            }
            if (kind != VF_ACT_PRELU && op->ip[7] != -1 && op->ip[7] != 0)
                return BAD("op %u (%s): alpha id %d without PReLU", i, nm, op->ip[7]);
        } else if (op->type == VF_OP_ACT) {
            return BAD("op %u: ACT without epilogue", i); /* unreachable: ACT has one */
        }
        if (op->type == VF_OP_ACT && op->act.kind == VF_ACT_NONE) return BAD("op %u (ACT): activation kind is none", i);
    }
    return VF_OK;
}

/* Check every declared shape against shape inference and bind PReLU alphas. */
static vf_status check_shapes(vf_context *ctx, vf_graph *g) {
    for (uint32_t i = 0; i < g->n_ops; i++) {
        vf_op *op = &g->ops[i];
        int rank;
        int32_t dims[VF_MAX_DIMS];
        vf_status s = vf_graph_infer_shape(ctx, g, i, &rank, dims);
        if (s) return s;
        vf_tensor *ot = &g->tensors[op->out];
        bool same = rank == ot->rank;
        for (int d = 0; same && d < rank; d++) same = dims[d] == ot->dims[d];
        if (!same)
            return BAD("op %u (%s): output tensor %u '%s' is declared [%d,%d,%d,%d] (rank %d) but computes to [%d,%d,%d,%d] (rank %d)",
                       i, vf_op_name(op->type), op->out, ot->name, ot->dims[0], ot->dims[1], ot->dims[2], ot->dims[3],
                       ot->rank, dims[0], rank > 1 ? dims[1] : 1, rank > 2 ? dims[2] : 1, rank > 3 ? dims[3] : 1, rank);
        if (op->act.kind == VF_ACT_PRELU) {
            const vf_tensor *a = &g->tensors[op->ip[7]];
            if (a->count != (size_t)ot->dims[ot->rank - 1])
                return BAD("op %u (%s): PReLU alpha has %zu values for %d channels", i, vf_op_name(op->type), a->count, ot->dims[ot->rank - 1]);
            op->act.alpha = a->data;
        }
    }
    return VF_OK;
}

vf_status vf_graph_load(vf_context *ctx, const uint8_t *b, size_t size, vf_graph *g) {
    memset(g, 0, sizeof *g);
    if (!b) return vf__fail(ctx, VF_E_INVALID_ARG, "model bytes are NULL");
    if (size < HEADER_BYTES) return BAD("truncated: %zu bytes, a header alone is %u", size, HEADER_BYTES);
    if (memcmp(b, "VFM\x1a", 4) != 0) return BAD("bad magic: not a .vfm file");
    uint16_t major = rd16(b + 4), minor = rd16(b + 6);
    if (major != 1) return BAD("format version %u.%u is not supported (this reader: 1.x)", major, minor);
    if (rd32(b + 8) != HEADER_BYTES) return BAD("header size %u, expected %u", rd32(b + 8), HEADER_BYTES);
    uint32_t nt = rd32(b + 12), no = rd32(b + 16), ni = rd32(b + 20), nout = rd32(b + 24), ns = rd32(b + 28);
    uint64_t data_off = rd64(b + 32), data_bytes = rd64(b + 40), file_bytes = rd64(b + 48);
    uint32_t meta = rd32(b + 56);
    if (nt < 1 || nt > MAX_TENSORS) return BAD("tensor count %u not in 1..%u", nt, MAX_TENSORS);
    if (no < 1 || no > MAX_OPS) return BAD("op count %u not in 1..%u", no, MAX_OPS);
    if (ni < 1 || ni > MAX_IO) return BAD("input count %u not in 1..%u", ni, MAX_IO);
    if (nout < 1 || nout > MAX_IO) return BAD("output count %u not in 1..%u", nout, MAX_IO);
    if (ns > MAX_STRINGS) return BAD("string table of %u bytes exceeds %u", ns, MAX_STRINGS);
    if (file_bytes != size)
        return BAD("%s: header says %llu bytes, buffer has %zu", file_bytes > size ? "truncated" : "trailing bytes",
                   (unsigned long long)file_bytes, size);
    /* All counts are bounded above, so this sum cannot overflow 64 bits. */
    uint64_t tables_end = HEADER_BYTES + (uint64_t)nt * TENSOR_BYTES + (uint64_t)no * OP_BYTES + 4ull * ni + 4ull * nout + ns;
    if (data_off % VF_ALIGN || data_off < tables_end || data_off > file_bytes || data_bytes != file_bytes - data_off)
        return BAD("data section [%llu, +%llu) is misplaced (tables end at %llu, file is %llu bytes)",
                   (unsigned long long)data_off, (unsigned long long)data_bytes, (unsigned long long)tables_end,
                   (unsigned long long)file_bytes);

    const uint8_t *p = b + HEADER_BYTES;
    const uint8_t *ttab = p; p += (size_t)nt * TENSOR_BYTES;
    const uint8_t *otab = p; p += (size_t)no * OP_BYTES;
    const uint8_t *itab = p; p += 4u * ni;
    const uint8_t *outtab = p; p += 4u * nout;
    const uint8_t *stab = p;

    g->n_tensors = nt;
    g->n_ops = no;
    g->tensors = calloc(nt, sizeof *g->tensors);
    g->ops = calloc(no, sizeof *g->ops);
    g->strings = malloc(ns + 1);
    if (!g->tensors || !g->ops || !g->strings) {
        vf_graph_free(g);
        return vf__fail(ctx, VF_E_NO_MEMORY, "cannot allocate the graph tables");
    }
    memcpy(g->strings, stab, ns);
    g->strings[ns] = 0;
    g->strings_bytes = ns;
    vf_status s = VF_OK;
    if (ns > 0 && stab[ns - 1] != 0) s = BAD("string table is not NUL-terminated");
    if (!s) s = read_string(ctx, g, meta, "meta", 0, &g->meta);
    if (!s) s = load_tensors(ctx, g, ttab, data_bytes);
    if (!s) {
        g->n_inputs = ni;
        g->n_outputs = nout;
        for (uint32_t k = 0; k < ni && !s; k++) {
            uint32_t id = rd32(itab + 4 * k);
            if (id >= nt || g->tensors[id].kind != VF_TENSOR_INPUT) s = BAD("graph input %u: tensor %u is not an input tensor", k, id);
            else if (g->tensors[id].first_op == -2) s = BAD("graph input %u: tensor %u listed twice", k, id);
            else { g->inputs[k] = id; g->tensors[id].first_op = -2; }
        }
        for (uint32_t id = 0; id < nt && !s; id++)
            if (g->tensors[id].kind == VF_TENSOR_INPUT && g->tensors[id].first_op != -2)
                s = BAD("tensor %u '%s' is an input tensor but not a graph input", id, g->tensors[id].name);
        for (uint32_t id = 0; id < nt; id++)
            if (g->tensors[id].kind == VF_TENSOR_INPUT) g->tensors[id].first_op = -1;
    }
    if (!s) s = load_weights(ctx, g, b + data_off);
    if (!s) s = load_ops(ctx, g, otab);
    for (uint32_t k = 0; k < nout && !s; k++) {
        uint32_t id = rd32(outtab + 4 * k);
        if (id >= nt || g->tensors[id].kind != VF_TENSOR_ACTIVATION) s = BAD("graph output %u: tensor %u is not an activation", k, id);
        else if (g->tensors[id].is_output) s = BAD("graph output %u: tensor %u listed twice", k, id);
        else { g->outputs[k] = id; g->tensors[id].is_output = true; }
    }
    for (uint32_t id = 0; id < nt && !s; id++) {
        const vf_tensor *t = &g->tensors[id];
        if (t->kind == VF_TENSOR_ACTIVATION && t->first_op < 0) s = BAD("tensor %u '%s' is never written", id, t->name);
    }
    if (!s) s = check_shapes(ctx, g);
    if (s) { vf_graph_free(g); return s; }
    for (uint32_t i = 0; i < no; i++) g->flops += g->ops[i].flops;
    return VF_OK;
}

void vf_graph_free(vf_graph *g) {
    if (!g) return;
    for (uint32_t i = 0; g->tensors && i < g->n_tensors; i++)
        if (g->tensors[i].kind == VF_TENSOR_CONSTANT) vf__free_aligned(g->tensors[i].data);
    free(g->tensors);
    free(g->ops);
    free(g->strings);
    memset(g, 0, sizeof *g);
}
