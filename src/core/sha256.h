/* sha256.h - SHA-256 (FIPS 180-4), for model identities: the browser build has no crypto library
 * in C, and the result package must name the exact model bytes that produced it. */
#ifndef VF_CORE_SHA256_H
#define VF_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

void vf_sha256(const void *data, size_t n, uint8_t out[32]);
/* 64 lowercase hex digits + NUL */
void vf_sha256_hex(const void *data, size_t n, char out[65]);

#endif
