/* eval.c - shared pieces of `veriface eval-pad` and `eval-match`: a CSV reader, a string table,
 * image loading with a skip reason, score statistics (AUC, EER) and JSON output helpers. */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CSV_BYTES ((size_t)256 << 20)

/* ---- CSV ------------------------------------------------------------------------------------- */

/* The whole file plus one byte: the last field's terminator may land just past its end. */
static int read_text(const char *path, char **out, size_t *n_out, char *err, size_t errn) {
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errn, "cannot open %s", path); return -1; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= MAX_CSV_BYTES) { snprintf(err, errn, "%s is over 256 MiB", path); free(buf); buf = NULL; fclose(f); return -1; }
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) { free(buf); snprintf(err, errn, bad ? "read error on %s" : "out of memory reading %s", path); return -1; }
    buf[n] = 0;
    *out = buf;
    *n_out = n;
    return 0;
}

int vf_csv_open(vf_csv *c, const char *path, char *err, size_t errn) {
    memset(c, 0, sizeof *c);
    if (read_text(path, &c->buf, &c->n, err, errn)) return -1;
    if (c->n >= 3 && !memcmp(c->buf, "\xEF\xBB\xBF", 3)) c->pos = 3;
    c->next_line = 1;
    return 0;
}

void vf_csv_close(vf_csv *c) {
    free(c->buf);
    free(c->field);
    memset(c, 0, sizeof *c);
}

static int push_field(vf_csv *c, char *f) {
    if (c->n_field == c->cap_field) {
        int cap = c->cap_field ? 2 * c->cap_field : 16;
        char **nf = realloc(c->field, sizeof *nf * (size_t)cap);
        if (!nf) return -1;
        c->field = nf;
        c->cap_field = cap;
    }
    c->field[c->n_field++] = f;
    return 0;
}

int vf_csv_next(vf_csv *c, char *err, size_t errn) {
    char *b = c->buf;
    while (c->pos < c->n && (b[c->pos] == '\n' || b[c->pos] == '\r')) c->next_line += b[c->pos++] == '\n';
    if (c->pos >= c->n) return 0;
    c->line = c->next_line;
    c->n_field = 0;
    for (;;) {
        /* unquote in place: the write position never passes the read position */
        size_t start = c->pos, w = c->pos;
        if (b[c->pos] == '"') {
            c->pos++;
            for (;;) {
                if (c->pos >= c->n) { snprintf(err, errn, "line %d: quoted field never closed", c->line); return -1; }
                char ch = b[c->pos];
                if (ch == '"' && c->pos + 1 < c->n && b[c->pos + 1] == '"') { b[w++] = '"'; c->pos += 2; continue; }
                if (ch == '"') { c->pos++; break; }
                c->next_line += ch == '\n';
                b[w++] = ch;
                c->pos++;
            }
            if (c->pos < c->n && b[c->pos] != ',' && b[c->pos] != '\n' && b[c->pos] != '\r') {
                snprintf(err, errn, "line %d: text after a closing quote", c->next_line);
                return -1;
            }
        } else {
            while (c->pos < c->n && b[c->pos] != ',' && b[c->pos] != '\n' && b[c->pos] != '\r') b[w++] = b[c->pos++];
        }
        char delim = c->pos < c->n ? b[c->pos] : '\n';
        b[w] = 0;
        if (push_field(c, b + start)) { snprintf(err, errn, "line %d: out of memory", c->line); return -1; }
        if (delim == ',') { c->pos++; continue; }
        if (c->pos < c->n) {
            c->pos++;
            if (delim == '\r' && c->pos < c->n && b[c->pos] == '\n') c->pos++;
            c->next_line++;
        }
        return c->n_field;
    }
}

/* ---- string table ---------------------------------------------------------------------------- */

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static int strtab_grow(vf_strtab *t) {
    int n_slot = t->n_slot ? 2 * t->n_slot : 64;
    int *slot = malloc(sizeof *slot * (size_t)n_slot);
    if (!slot) return -1;
    for (int i = 0; i < n_slot; i++) slot[i] = -1;
    for (int i = 0; i < t->n; i++) {
        uint32_t h = hash_str(t->s[i]) & (uint32_t)(n_slot - 1);
        while (slot[h] >= 0) h = (h + 1) & (uint32_t)(n_slot - 1);
        slot[h] = i;
    }
    free(t->slot);
    t->slot = slot;
    t->n_slot = n_slot;
    return 0;
}

int vf_strtab_add(vf_strtab *t, const char *s) {
    if (2 * (t->n + 1) > t->n_slot && strtab_grow(t)) return -1;
    uint32_t h = hash_str(s) & (uint32_t)(t->n_slot - 1);
    for (; t->slot[h] >= 0; h = (h + 1) & (uint32_t)(t->n_slot - 1))
        if (!strcmp(t->s[t->slot[h]], s)) return t->slot[h];
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        char **ns = realloc(t->s, sizeof *ns * (size_t)cap);
        if (!ns) return -1;
        t->s = ns;
        t->cap = cap;
    }
    char *copy = malloc(strlen(s) + 1);
    if (!copy) return -1;
    strcpy(copy, s);
    t->s[t->n] = copy;
    t->slot[h] = t->n;
    return t->n++;
}

void vf_strtab_free(vf_strtab *t) {
    for (int i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* ---- paths and images ------------------------------------------------------------------------ */

char *vf_eval_join(const char *dir, const char *name) {
    int abs = name[0] == '/';
    size_t n = (abs ? 0 : strlen(dir) + 1) + strlen(name) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s%s%s", abs ? "" : dir, abs ? "" : "/", name);
    return p;
}

char *vf_eval_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (slash && n == 0) n = 1; /* "/labels.csv" lives in "/" */
    char *d = malloc(n + 2);
    if (!d) return NULL;
    if (slash) { memcpy(d, path, n); d[n] = 0; }
    else strcpy(d, ".");
    return d;
}

const char *vf_eval_skip_name(vf_eval_skip s) {
    static const char *names[VF_EVAL_N_SKIPS] = {"ok", "unreadable", "empty_file", "unsupported_format", "too_large",
                                                 "corrupt_image", "no_memory", "no_face", "no_landmarks", "pipeline_error"};
    return (unsigned)s < VF_EVAL_N_SKIPS ? names[s] : "?";
}

vf_eval_skip vf_eval_read_image(vf_context *ctx, const char *path, vf_image_buffer *out, char *msg, size_t msgn) {
    msg[0] = 0;
    if (out) memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(msg, msgn, "cannot open %s", path); return VF_EVAL_UNREADABLE; }
    long sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (sz == 0) { fclose(f); snprintf(msg, msgn, "empty file (0 bytes)"); return VF_EVAL_EMPTY_FILE; }
    if (sz > (256L << 20)) { fclose(f); snprintf(msg, msgn, "file over 256 MiB"); return VF_EVAL_TOO_LARGE; }
    uint8_t *bytes = sz > 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)sz) : NULL;
    int ok = bytes && fread(bytes, 1, (size_t)sz, f) == (size_t)sz;
    fclose(f);
    if (!ok) { free(bytes); snprintf(msg, msgn, "cannot read %s", path); return VF_EVAL_UNREADABLE; }
    vf_status s = out ? vf_image_decode(ctx, bytes, (size_t)sz, NULL, out, NULL) : vf_image_probe(ctx, bytes, (size_t)sz, NULL, NULL);
    free(bytes);
    if (s == VF_OK) return VF_EVAL_OK;
    const char *why = vf_context_last_error(ctx);
    snprintf(msg, msgn, "%s", why);
    if (s == VF_E_NO_MEMORY) return VF_EVAL_NO_MEMORY;
    if (!strncmp(why, "unsupported", 11)) return VF_EVAL_UNSUPPORTED;
    if (strstr(why, "over the limit") || strstr(why, "memory limit")) return VF_EVAL_TOO_LARGE;
    return VF_EVAL_CORRUPT;
}

/* ---- score statistics ------------------------------------------------------------------------ */

static int cmp_float(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

void vf_eval_sort(float *v, int n) {
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_float);
}

int vf_eval_count_below(const float *v, int n, float t) {
    int lo = 0, hi = n; /* first index with v[i] >= t */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* elements <= t */
static int count_upto(const float *v, int n, float t) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] <= t) lo = mid + 1; else hi = mid;
    }
    return lo;
}

double vf_eval_auc(const float *pos, int n_pos, const float *neg, int n_neg) {
    if (n_pos == 0 || n_neg == 0) return NAN;
    double wins = 0;
    for (int i = 0; i < n_pos; i++) {
        int below = vf_eval_count_below(neg, n_neg, pos[i]);
        wins += below + 0.5 * (count_upto(neg, n_neg, pos[i]) - below);
    }
    return wins / ((double)n_pos * n_neg);
}

double vf_eval_eer(const float *live, int n_live, const float *spoof, int n_spoof, float *thr) {
    *thr = NAN;
    if (n_live == 0 || n_spoof == 0) return NAN;
    double best_gap = 2, eer = NAN;
    /* thresholds ascending: a merge of the two sorted arrays */
    for (int i = 0, j = 0; i < n_live || j < n_spoof;) {
        float t = j >= n_spoof || (i < n_live && live[i] <= spoof[j]) ? live[i] : spoof[j];
        double b = (double)vf_eval_count_below(live, n_live, t) / n_live;
        double a = (double)(n_spoof - vf_eval_count_below(spoof, n_spoof, t)) / n_spoof;
        if (fabs(a - b) < best_gap) { best_gap = fabs(a - b); eer = (a + b) / 2; *thr = t; }
        while (i < n_live && live[i] == t) i++;
        while (j < n_spoof && spoof[j] == t) j++;
    }
    return eer;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

void vf_eval_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void vf_eval_json_num(FILE *f, double v, int prec) {
    if (isnan(v) || isinf(v)) fputs("null", f);
    else fprintf(f, "%.*f", prec, v);
}
