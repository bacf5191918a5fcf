/* crypto.c - OpenSSL 3: ECDSA P-256 verification of WebCrypto's P1363 signatures, SHA-256,
 * random ids; strict base64 (the package's frames and signature are untrusted text). */
#include "server.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>   /* d2i_PUBKEY: without it gcc only warns and the call crashes */
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *load_p256(const uint8_t *spki, size_t len) {
    const unsigned char *p = spki;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    if (!k) return NULL;
    char group[64] = "";
    size_t gl = 0;
    if (p != spki + len || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &gl) || strcmp(group, "prime256v1")) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

int vf_srv_check_p256_spki(const uint8_t *spki, size_t len) {
    EVP_PKEY *k = load_p256(spki, len);
    EVP_PKEY_free(k);
    return k != NULL;
}

int vf_srv_verify_p1363(const uint8_t *spki, size_t spki_len, const void *msg, size_t n, const uint8_t *sig, size_t sig_len) {
    if (sig_len != 64) return 0;
    EVP_PKEY *k = load_p256(spki, spki_len);
    if (!k) return 0;
    /* P1363 r||s -> DER (ECDSA_SIG), which is what OpenSSL verifies */
    int ok = 0;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        der_len = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (der_len > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, n) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(k);
    return ok;
}

void vf_srv_hex(const uint8_t *p, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) { out[2 * i] = d[p[i] >> 4]; out[2 * i + 1] = d[p[i] & 15]; }
    out[2 * n] = 0;
}

void vf_srv_sha256_hex(const void *p, size_t n, char hex[65]) {
    unsigned char h[32];
    unsigned int hl = 0;
    EVP_Digest(p, n, h, &hl, EVP_sha256(), NULL);
    vf_srv_hex(h, 32, hex);
}

int vf_srv_random(void *p, size_t n) { return RAND_bytes(p, (int)n) == 1 ? 0 : -1; }

static int b64val(unsigned char c, int url) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

uint8_t *vf_srv_b64_decode(const char *s, size_t len, int url, size_t *n_out) {
    *n_out = 0;
    if (!url) {   /* standard: padded to a multiple of 4 */
        if (len % 4) return NULL;
        size_t pad = 0;
        while (pad < 2 && len > pad && s[len - 1 - pad] == '=') pad++;
        len -= pad;
        if (pad && len % 4 == 0) return NULL;
    }
    if (len % 4 == 1) return NULL;
    size_t out_n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    uint8_t *out = malloc(out_n ? out_n : 1);
    if (!out) return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i], url);
        if (v < 0) { free(out); return NULL; }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (uint8_t)(acc >> bits); }
    }
    if (bits && (acc & ((1u << bits) - 1))) { free(out); return NULL; }  /* non-canonical trailing bits */
    *n_out = o;
    return out;
}

void vf_srv_b64url_encode(const uint8_t *p, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n) out[o++] = a[v >> 6 & 63];
        if (i + 2 < n) out[o++] = a[v & 63];
    }
    out[o] = 0;
}

int vf_srv_key_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return 0;
    return CRYPTO_memcmp(a, b, lb) == 0;
}
