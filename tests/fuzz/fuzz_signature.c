/* fuzz_signature.c - libFuzzer target for what the server does with a package's signature and a
 * session's public key (src/server/crypto.c), both untrusted:
 *   - the input as "HEADER\nBODY": HEADER is the X-Veriface-Signature value, b64url-decoded with
 *     the verify stage's 200-character cap (src/server/result.c), then checked as a P1363 ECDSA
 *     P-256 signature over BODY with a fixed valid key (KEY_SPKI). A signature that verifies
 *     must stop verifying when one bit of the body or of the signature changes.
 *   - the whole input as a session's SPKI DER (client_public_key): vf_srv_check_p256_spki, and
 *     when it is accepted, a verification with it (KEY_SPKI itself must verify MSG_SIG).
 * No crash, leak or undefined behaviour on any input. Built and run by tools/fuzz; seeds in
 * tests/fuzz/corpus/fuzz_signature (a valid signed body, the key, P-384, Ed25519, compressed). */
#include "server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A P-256 public key (SPKI DER, uncompressed point), generated once for this target. */
static const uint8_t KEY_SPKI[91] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
    0x42, 0x00, 0x04, 0x96, 0xd9, 0xea, 0x3d, 0x0c, 0xdd, 0xe1, 0xd0, 0xe4,
    0xe9, 0x0d, 0x0c, 0x1b, 0xe4, 0xfe, 0xf3, 0x37, 0xc7, 0x6c, 0xa7, 0x7f,
    0x88, 0x8e, 0x27, 0x40, 0xbe, 0xbc, 0x05, 0x58, 0x40, 0x1d, 0x35, 0x07,
    0x2b, 0xe8, 0xb6, 0xf3, 0x1f, 0x7a, 0xc6, 0xaa, 0xc4, 0x2d, 0xa0, 0xb8,
    0xa2, 0x60, 0x7a, 0xfe, 0xe7, 0x5b, 0x31, 0xa8, 0x11, 0xee, 0xa6, 0x80,
    0xe8, 0xda, 0xc9, 0x4d, 0xe9, 0x08, 0x82};
/* Its P1363 signature of MSG. */
static const char MSG[] = "veriface fuzz";
static const uint8_t MSG_SIG[64] = {
    0x9f, 0xc1, 0xcb, 0xfd, 0x00, 0x1d, 0x40, 0x1e, 0x54, 0xba, 0x56, 0x9a, 0x36, 0x25, 0xc5, 0x2d,
    0x9b, 0x57, 0x9e, 0x88, 0x6b, 0x07, 0xfa, 0xf6, 0xa2, 0x20, 0xfc, 0x21, 0x1a, 0xf5, 0x0e, 0xbb,
    0xae, 0x59, 0x6c, 0xe2, 0xd9, 0x91, 0x69, 0xa8, 0xec, 0x7f, 0x02, 0x59, 0x32, 0xf8, 0xdc, 0x44,
    0x21, 0xbc, 0xf1, 0x09, 0x85, 0xf1, 0xf2, 0x79, 0x08, 0xfb, 0xb7, 0x77, 0xc7, 0x35, 0x74, 0x85};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* 1. the header and the body it signs */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hl = nl ? (size_t)(nl - data) : size;
    const uint8_t *body = nl ? nl + 1 : data + size;
    size_t bl = size - (size_t)(body - data);
    char *header = malloc(hl + 1);   /* a header is a C string: it ends at the first NUL */
    if (!header) return 0;
    memcpy(header, data, hl);
    header[hl] = 0;
    size_t sl = 0;
    uint8_t *sig = strlen(header) <= 200 ? vf_srv_b64_decode(header, strlen(header), 1, &sl) : NULL;
    free(header);
    if (sig && vf_srv_verify_p1363(KEY_SPKI, sizeof KEY_SPKI, body, bl, sig, sl)) {
        if (sl != 64) abort();
        uint8_t *b2 = malloc(bl + 1);
        if (b2) {
            memcpy(b2, body, bl);
            if (bl) {
                b2[bl / 2] ^= 1;
                if (vf_srv_verify_p1363(KEY_SPKI, sizeof KEY_SPKI, b2, bl, sig, sl)) abort();
            }
            memcpy(b2, body, bl);   /* one byte more */
            b2[bl] = 'x';
            if (vf_srv_verify_p1363(KEY_SPKI, sizeof KEY_SPKI, b2, bl + 1, sig, sl)) abort();
            free(b2);
        }
        sig[size % 64] ^= 0x10;
        if (vf_srv_verify_p1363(KEY_SPKI, sizeof KEY_SPKI, body, bl, sig, sl)) abort();
    }
    free(sig);

    /* 2. the input as a session's public key */
    if (vf_srv_check_p256_spki(data, size)) {
        int ok = vf_srv_verify_p1363(data, size, MSG, sizeof MSG - 1, MSG_SIG, sizeof MSG_SIG);
        if (size == sizeof KEY_SPKI && !memcmp(data, KEY_SPKI, size) && ok != 1) abort();
    } else if (vf_srv_verify_p1363(data, size, MSG, sizeof MSG - 1, MSG_SIG, sizeof MSG_SIG)) {
        abort();   /* a key the check refuses never verifies */
    }
    return 0;
}
