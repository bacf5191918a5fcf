/* json.h - a small canonical JSON writer: keys in the order written, numbers with a fixed number
 * of decimals (so client and server print the same text for the same value), strings escaped.
 * Writes into a caller buffer; never overflows; reports the length it needed. */
#ifndef VF_CORE_JSON_H
#define VF_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_json {
    char *buf;
    size_t size, len;   /* len counts everything written, even past size */
    int need_comma;
} vf_json;

void vf_json_init(vf_json *j, char *buf, size_t size);
void vf_json_begin(vf_json *j, char open);          /* '{' or '[' */
void vf_json_end(vf_json *j, char close);           /* '}' or ']' */
void vf_json_key(vf_json *j, const char *key);      /* inside an object: "key": */
void vf_json_num(vf_json *j, double v, int decimals); /* non-finite values are written as null */
void vf_json_int(vf_json *j, long long v);
void vf_json_str(vf_json *j, const char *s);
void vf_json_bool(vf_json *j, int v);
/* NUL-terminate (truncating if needed); returns the full length. */
size_t vf_json_finish(vf_json *j);

#endif
