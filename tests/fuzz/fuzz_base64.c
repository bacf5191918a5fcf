/* fuzz_base64.c - libFuzzer target for the server's strict base64 (src/server/crypto.c): the
 * frames (standard alphabet, padded) and the signature header (url alphabet, unpadded) are
 * untrusted text. Any input must decode or be refused (NULL, *n_out 0) without a crash or a leak;
 * the decoders are strict, so what decodes re-encodes to exactly the input; and any bytes encode
 * to text that decodes back to them.
 * Built and run by tools/fuzz (tests/fuzz/CMakeLists.txt). */
#include "server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *encode_url(const uint8_t *p, size_t n) {
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    if (s) vf_srv_b64url_encode(p, n, s);
    return s;
}

/* url text -> standard: + / and '=' padding to a multiple of 4 */
static char *url_to_std(const char *u) {
    size_t n = strlen(u), padded = (n + 3) / 4 * 4;
    char *s = malloc(padded + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = u[i] == '-' ? '+' : u[i] == '_' ? '/' : u[i];
    for (size_t i = n; i < padded; i++) s[i] = '=';
    s[padded] = 0;
    return s;
}

static void decode_and_reencode(const uint8_t *data, size_t size, int url) {
    size_t n = 12345;
    uint8_t *d = vf_srv_b64_decode((const char *)data, size, url, &n);
    if (!d) {
        if (n != 0) abort();
        return;
    }
    size_t chars = size;
    if (!url) while (chars > 0 && data[chars - 1] == '=') chars--;
    if (n != chars * 3 / 4) abort();   /* strict: no characters skipped */
    char *u = encode_url(d, n);
    if (!u) { free(d); return; }
    char *again = url ? u : url_to_std(u);
    if (again && (strlen(again) != size || memcmp(again, data, size))) abort();
    if (again != u) free(again);
    free(u);
    free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    decode_and_reencode(data, size, 0);
    decode_and_reencode(data, size, 1);

    /* any bytes: encode, decode in both alphabets, get them back */
    char *u = encode_url(data, size);
    if (!u) return 0;
    size_t n = 0;
    uint8_t *d = vf_srv_b64_decode(u, strlen(u), 1, &n);
    if (!d || n != size || (size && memcmp(d, data, size))) abort();
    free(d);
    char *s = url_to_std(u);
    if (s) {
        d = vf_srv_b64_decode(s, strlen(s), 0, &n);
        if (!d || n != size || (size && memcmp(d, data, size))) abort();
        free(d);
        free(s);
    }
    free(u);
    return 0;
}
