/* reply.c - what every handler answers with: a JSON body, an error body
 * {"error":{"code","message"}}, and the audit record of a rejection. Below the routes and the
 * HTTP glue, above the store: http.c, routes.c, result.c and static.c all answer through it. */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vf_srv_reply_json(vf_srv_reply *r, int status, cJSON *j) {
    free(r->body);
    r->status = status;
    r->body = j ? cJSON_PrintUnformatted(j) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    r->content_type = "application/json";
    cJSON_Delete(j);
    if (!r->body) { r->status = 500; r->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}"); r->len = r->body ? strlen(r->body) : 0; }
}

void vf_srv_reply_error(vf_srv_reply *r, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    vf_srv_reply_json(r, status, j);
}

/* One audit record for a refused request (the request hash, the client, the status and code);
 * a failed write is logged, never fatal for the answer. */
void vf_srv_audit_reject(vf_srv *s, const vf_srv_request *q, const char *route, const char *session_id, int attempt,
                         const vf_srv_reply *r, const char *code) {
    char h[65] = "";
    if (q->body) vf_srv_sha256_hex(q->body, q->len, h);
    vf_srv_audit a = {route, session_id, h[0] ? h : NULL, q->remote, attempt, r->status, code, NULL, NULL, NULL};
    if (vf_srv_store_audit(s->store, &a)) fprintf(stderr, "veriface-server: audit write failed (%s %s)\n", route, code);
}
