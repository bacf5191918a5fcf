/* photo_route.c - GET /v1/sessions/{id}/photo (the portrait and its score while retention keeps
 * it) and DELETE /v1/sessions/{id} (the session, its attempts, frames and photo). Both need an
 * API key (routes.c checks it). */
#include "server.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vf_srv_photo_get(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    (void)q;
    vf_srv_photo_row p;
    memset(&p, 0, sizeof p);
    int rc = vf_srv_valid_id(id) ? vf_srv_store_photo_get(s->store, id, vf_srv_now_ms(), &p) : 0;
    if (rc < 0) { vf_srv_reply_error(r, 500, "storage", "could not read the photo"); return; }
    if (!rc) { vf_srv_reply_error(r, 404, "no_photo", "no photo for this session (none decided with a face, deleted, or past retention)"); return; }
    char *b64 = malloc(4 * ((p.len + 2) / 3) + 1);
    if (!b64) { free(p.jpeg); vf_srv_reply_error(r, 500, "internal", "out of memory"); return; }
    EVP_EncodeBlock((unsigned char *)b64, p.jpeg, (int)p.len);
    free(p.jpeg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", id);
    cJSON_AddNumberToObject(o, "attempt", p.attempt);
    cJSON_AddNumberToObject(o, "photo_quality_score", (double)(int)(p.quality_score * 1000 + 0.5) / 1000);
    cJSON_AddStringToObject(o, "mime", "image/jpeg");
    cJSON_AddNumberToObject(o, "width", p.width);
    cJSON_AddNumberToObject(o, "height", p.height);
    cJSON_AddNumberToObject(o, "created_at", (double)p.created_at);
    cJSON_AddNumberToObject(o, "expires_at", (double)p.expires_at);
    cJSON_AddStringToObject(o, "data", b64);
    free(b64);
    vf_srv_reply_json(r, 200, o);
}

void vf_srv_session_delete(vf_srv *s, const vf_srv_request *q, const char *id, vf_srv_reply *r) {
    if (!vf_srv_valid_id(id)) { vf_srv_reply_error(r, 404, "unknown_session", "no such session"); return; }
    vf_srv_audit a = {r->route, id, NULL, q->remote, 0, 200, "deleted", NULL, NULL, NULL};
    int rc = vf_srv_store_delete_session(s->store, id, &a);
    if (rc < 0) { vf_srv_reply_error(r, 500, "storage", "could not delete the session"); return; }
    if (!rc) { vf_srv_reply_error(r, 404, "unknown_session", "no such session"); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", id);
    cJSON_AddBoolToObject(o, "deleted", 1);
    vf_srv_reply_json(r, 200, o);
}
