/* faces.h - the face services' shared input: a request body as a form (JSON with base64 images, or
 * multipart/form-data with file parts), an image's embedding, and the API key check. Used by
 * session creation (the reference), compare (faces.c) and the collections (collections.c). */
#ifndef VF_SERVER_FACES_H
#define VF_SERVER_FACES_H

#include "server.h"
#include "multipart.h"

typedef struct vf_srv_form {
    cJSON *json;                      /* JSON body (owned), or NULL for multipart */
    vf_mp_part parts[VF_MP_MAX_PARTS];
    int n_parts;
} vf_srv_form;

/* Read the body as JSON (an object; UTF-8, depth and number checks as everywhere) or as
 * multipart/form-data, by its Content-Type. 0 = ok; -1 = refused: r holds the 4xx, *code its code. */
int vf_srv_form_read(const vf_srv_request *q, vf_srv_form *f, vf_srv_reply *r, const char **code);
void vf_srv_form_free(vf_srv_form *f);
/* 1 when the form has field `name` (a JSON key or a part). */
int vf_srv_form_has(const vf_srv_form *f, const char *name);
/* A text field: a JSON string or a part's bytes (UTF-8, no NUL, at most max bytes) into out.
 * 1 = found, 0 = absent, -1 = present but not such a string (r holds the 400). */
int vf_srv_form_text(const vf_srv_form *f, const char *name, char *out, size_t max, vf_srv_reply *r, const char **code);
/* The embedding of the face of image field `name` (JSON: base64 string; multipart: the part's
 * bytes; the face vf_engine_embed_face chooses), decoded under the reference image limits.
 * *faces = faces the detector found; box (may be NULL) = the chosen face's box, image pixels.
 * 0 = ok; -1 = refused (400 bad_base64 / bad_schema, 413 image_too_large, 422 corrupt_image /
 * no_face). */
int vf_srv_form_embed(vf_srv *s, const vf_srv_form *f, const char *name, float *emb, int *dim, int *faces,
                      float *box, vf_srv_reply *r, const char **code);
/* The same for image bytes already in hand (the session reference); `what` names it in messages.
 * 0 = ok, -1 = refused (r, *code: 422 corrupt_image), -2 = no face (nothing written to r). */
int vf_srv_embed_image(vf_srv *s, const uint8_t *bytes, size_t n, const char *what, float *emb, int *dim, int *faces,
                       float *box, vf_srv_reply *r, const char **code);

int vf_srv_authorized(vf_srv *s, const vf_srv_request *q);    /* Authorization: Bearer <API key> */
const char *vf_srv_band_name(vf_match_band b);

void vf_srv_faces_compare(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r);   /* POST /v1/faces:compare */

#endif
