/* package.h - the result package's bytes -> a checked view (web/PACKAGE.md section 3), before any
 * state is read: valid UTF-8, JSON, a depth limit, every number finite, every field's type and
 * range, and size limits on what the client may put in free-form objects (signals, module,
 * capture), which are stored and shown to integrators. Pure (no I/O, no server state): fuzzed by
 * tests/fuzz/fuzz_package.c. */
#ifndef VF_SRV_PACKAGE_H
#define VF_SRV_PACKAGE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define VF_SRV_PKG_MAX_FRAMES 16
#define VF_SRV_PKG_MAX_DEPTH 12           /* the package's own structure is 6 deep */
#define VF_SRV_PKG_FREE_NODES 512         /* values in signals (module, capture: 64) */
#define VF_SRV_PKG_FREE_BYTES 16384       /* string bytes in signals (module, capture: 2048) */
#define VF_SRV_PKG_FREE_STRING 1024       /* one string in signals, module or capture */

/* An answer that refuses a request: HTTP status, stable code, message. */
typedef struct vf_srv_error {
    int status;
    const char *code;                     /* static */
    char message[256];
} vf_srv_error;

typedef struct vf_srv_pkg_frame {
    int index;
    double timestamp;                     /* epoch ms, finite, > 0 */
    int width, height;
    const char *mime, *sha256, *data;     /* inside the tree */
    const cJSON *status;
} vf_srv_pkg_frame;

typedef struct vf_srv_package {
    cJSON *root;                          /* owned (vf_srv_package_free) */
    const char *nonce;
    int attempt;
    double created_at;                    /* epoch ms, an integer */
    const cJSON *models, *result, *signals, *module, *capture, *challenge;  /* NULL when absent */
    int n_frames;
    vf_srv_pkg_frame frames[VF_SRV_PKG_MAX_FRAMES];
} vf_srv_package;

/* Parse and check `body`. url_id: the session id of the URL, which the package must name.
 * role_names / n_roles: the model roles (vf_model_roles) the package's `models` must hold.
 * 0 = ok (free with vf_srv_package_free); -1 = refused, *err filled (400 bad_json / bad_schema),
 * out holds nothing. */
int vf_srv_package_parse(const uint8_t *body, size_t n, const char *url_id, const char *const *role_names, int n_roles,
                         vf_srv_package *out, vf_srv_error *err);
void vf_srv_package_free(vf_srv_package *p);

/* Any client JSON before its fields are read: nested at most max_depth, every number finite.
 * 0 = ok; -1 = refused, *err filled (400 bad_schema). */
int vf_srv_json_sane(const cJSON *x, int max_depth, vf_srv_error *err);
/* 1 if the raw JSON text holds the escape \u0000 (cJSON would cut the string there). */
int vf_srv_json_nul_escape(const uint8_t *s, size_t n);

/* 1 when the n bytes are valid UTF-8 (no overlongs, surrogates or code points over U+10FFFF). */
int vf_srv_utf8_valid(const uint8_t *s, size_t n);

#endif
