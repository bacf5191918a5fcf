/* fuzz_multipart.c - libFuzzer target for the face endpoints' multipart/form-data reader
 * (src/server/multipart.c): the Content-Type and the body are untrusted. The input's first line
 * is the Content-Type, the rest the body. Any input must parse or be refused with a reason,
 * without a crash; what parses is a list of named parts (1..63 bytes, each name once) whose bytes
 * lie inside the body, in order, none overlapping.
 * Built and run by tools/fuzz (tests/fuzz/CMakeLists.txt). */
#include "multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t cl = nl ? (size_t)(nl - data) : size;
    if (cl > 1024) return 0;
    char ct[1025];
    memcpy(ct, data, cl);
    ct[cl] = 0;
    const uint8_t *body = nl ? nl + 1 : data + size;
    size_t len = (size_t)(data + size - body);
    vf_mp_part parts[VF_MP_MAX_PARTS];
    char err[256] = "";
    int n = vf_mp_parse(ct, body, len, parts, err, sizeof err);
    if (n < 0) {
        if (n != -1 || !err[0]) abort();
        return 0;
    }
    if (n > VF_MP_MAX_PARTS) abort();
    const uint8_t *prev_end = body;
    for (int i = 0; i < n; i++) {
        size_t nl2 = strlen(parts[i].name);
        if (nl2 < 1 || nl2 > 63) abort();
        if (parts[i].data < prev_end || parts[i].data + parts[i].len > body + len) abort();
        prev_end = parts[i].data + parts[i].len;
        if (vf_mp_find(parts, n, parts[i].name) != &parts[i]) abort();
    }
    return 0;
}
