/* engines.c - one vf_engine + vf_context per re-run worker (a context is single-threaded), lent
 * to request threads one at a time. The model files are read once; each engine copies them. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vf_srv_engines {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    vf_srv_worker *w;
    int *busy;
    char hash[VF_ROLE_COUNT][65];
    int have_pad;
};

typedef struct blob { uint8_t *p; size_t n; } blob;

static blob read_blob(const char *dir, const char *name) {
    char path[2048];
    blob b = {NULL, 0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return b;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz > 0 && sz < (512L << 20) && fseek(f, 0, SEEK_SET) == 0 && (b.p = malloc((size_t)sz))) {
            if (fread(b.p, 1, (size_t)sz, f) == (size_t)sz) b.n = (size_t)sz;
            else { free(b.p); b.p = NULL; }
        }
    }
    fclose(f);
    return b;
}

int vf_srv_engines_create(const vf_srv_config *c, vf_srv_engines **out, char *err, size_t es) {
    *out = NULL;
    const vf_model_role *roles = vf_model_roles(NULL);
    blob m[VF_ROLE_COUNT];
    for (int i = 0; i < VF_ROLE_COUNT; i++) m[i] = read_blob(roles[i].fetched ? c->pad_models_dir : c->models_dir, roles[i].file);
    int rc = -1;
    vf_srv_engines *p = calloc(1, sizeof *p);
    /* the server also needs the embedder: it matches against references */
    for (int i = 0; i < VF_ROLE_COUNT; i++)
        if (!m[i].p && (roles[i].required || i == VF_ROLE_EMBEDDER)) {
            snprintf(err, es, "models: %s (%s) is required in %s", roles[i].file, roles[i].name, c->models_dir);
            goto out;
        }
    if (!p) goto out;
    p->n = c->threads;
    p->w = calloc((size_t)p->n, sizeof *p->w);
    p->busy = calloc((size_t)p->n, sizeof *p->busy);
    if (!p->w || !p->busy) goto out;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    vf_engine_models mm;
    for (int i = 0; i < VF_ROLE_COUNT; i++) { mm.bytes[i] = m[i].p; mm.size[i] = m[i].n; }
    vf_model_options mo = vf_model_default_options();
    mo.backend = vf_backend_available(VF_BACKEND_XNNPACK) ? VF_BACKEND_XNNPACK : VF_BACKEND_AUTO;
    for (int i = 0; i < p->n; i++) {
        vf_context_options co = vf_context_default_options();
        co.threads = 1;
        if (vf_context_create(&co, &p->w[i].ctx) != VF_OK) { snprintf(err, es, "context: out of memory"); goto out; }
        vf_status s = vf_engine_create(p->w[i].ctx, &mm, &mo, &p->w[i].engine);
        if (s) { snprintf(err, es, "engine: %s: %s", vf_status_string(s), vf_context_last_error(p->w[i].ctx)); goto out; }
    }
    for (int i = 0; i < VF_ROLE_COUNT; i++) snprintf(p->hash[i], sizeof p->hash[i], "%s", vf_engine_model_hash(p->w[0].engine, i));
    p->have_pad = 1;
    for (int i = 0; i < VF_ROLE_COUNT; i++) if (!strcmp(roles[i].stage, "liveness") && !m[i].p) p->have_pad = 0;
    rc = 0;
out:
    for (int i = 0; i < VF_ROLE_COUNT; i++) free(m[i].p);
    if (rc) vf_srv_engines_free(p); else *out = p;
    return rc;
}

void vf_srv_engines_free(vf_srv_engines *p) {
    if (!p) return;
    for (int i = 0; p->w && i < p->n; i++) {
        vf_engine_free(p->w[i].engine);
        vf_context_free(p->w[i].ctx);
    }
    if (p->w) { pthread_mutex_destroy(&p->mu); pthread_cond_destroy(&p->cv); }
    free(p->w);
    free(p->busy);
    free(p);
}

vf_srv_worker *vf_srv_engines_acquire(vf_srv_engines *p) {
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (int i = 0; i < p->n; i++)
            if (!p->busy[i]) { p->busy[i] = 1; pthread_mutex_unlock(&p->mu); return &p->w[i]; }
        pthread_cond_wait(&p->cv, &p->mu);
    }
}

void vf_srv_engines_release(vf_srv_engines *p, vf_srv_worker *w) {
    pthread_mutex_lock(&p->mu);
    p->busy[w - p->w] = 0;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

const char *vf_srv_engines_hash(const vf_srv_engines *p, int i) { return i >= 0 && i < VF_ROLE_COUNT ? p->hash[i] : ""; }
int vf_srv_engines_have_pad(const vf_srv_engines *p) { return p->have_pad; }

/* The hash of each role's model (the role table's order), as the answers and the audit give them. */
cJSON *vf_srv_models_json(vf_srv *s) {
    cJSON *m = cJSON_CreateObject();
    for (int i = 0; i < VF_ROLE_COUNT; i++) cJSON_AddStringToObject(m, vf_model_roles(NULL)[i].name, vf_srv_engines_hash(s->engines, i));
    return m;
}
