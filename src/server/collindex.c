/* collindex.c - each collection's index in this process, kept up to the store, rebuilt in the
 * background (collindex.h). Locks of a collection: `mu` orders the changes to its index (applying
 * the store's changes, the swap) and is held for a delta, never for a build; `use` is held shared
 * by searches and exclusively for applying a delta or swapping the pointer (FAISS does not allow an
 * add or remove during a search of the same index), so a search waits at most for a delta. */
#include "collindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RETRY_MS 60000                /* a failed build (out of memory) is tried again after this */

typedef struct coll_index {
    char id[33];
    pthread_mutex_t mu;
    pthread_rwlock_t use;
    vf_faceindex *ix;                 /* NULL until the collection has a face */
    int dim;                          /* its faces' dimension (one model: one dimension) */
    int64_t seen;                     /* the last change applied to ix */
    /* the background build (under mu) */
    int building, joinable;
    pthread_t builder;
    vf_srv_store *store;              /* what the builder reads */
    int64_t failed_at;
    struct vf_srv_collections *owner;
    struct coll_index *next;
} coll_index;

struct vf_srv_collections {
    pthread_mutex_t mu;
    coll_index *head;
    size_t ivf_min;
    int nprobe;
};

vf_srv_collections *vf_srv_collections_create(size_t ivf_min, int nprobe) {
    vf_srv_collections *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->ivf_min = ivf_min;
    c->nprobe = nprobe;
    return c;
}

void vf_srv_collections_free(vf_srv_collections *c) {
    if (!c) return;
    for (coll_index *x = c->head, *n; x; x = n) {
        n = x->next;
        pthread_mutex_lock(&x->mu);
        int join = x->joinable;
        pthread_mutex_unlock(&x->mu);
        if (join) pthread_join(x->builder, NULL);
        vf_faceindex_free(x->ix);
        pthread_mutex_destroy(&x->mu);
        pthread_rwlock_destroy(&x->use);
        free(x);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static coll_index *index_of(vf_srv_collections *c, const char *id) {
    pthread_mutex_lock(&c->mu);
    coll_index *x = c->head;
    while (x && strcmp(x->id, id)) x = x->next;
    if (!x && (x = calloc(1, sizeof *x))) {
        snprintf(x->id, sizeof x->id, "%s", id);
        pthread_mutex_init(&x->mu, NULL);
        pthread_rwlock_init(&x->use, NULL);
        x->owner = c;
        x->next = c->head;
        c->head = x;
    }
    pthread_mutex_unlock(&c->mu);
    return x;
}

/* The rows of a change scan: live ones to add, deleted ones to remove. */
typedef struct changes {
    int dim;
    size_t n_add, cap_add, n_del, cap_del;
    int64_t *add_rows, *del_rows;
    float *add_vecs;
    int bad;
} changes;

static int collect(void *ctx, const vf_srv_face *f) {
    changes *ch = ctx;
    if (f->deleted || !f->embedding) {
        if (ch->n_del == ch->cap_del) {
            ch->cap_del = ch->cap_del ? 2 * ch->cap_del : 64;
            int64_t *r = realloc(ch->del_rows, sizeof *r * ch->cap_del);
            if (!r) return ch->bad = 1;
            ch->del_rows = r;
        }
        ch->del_rows[ch->n_del++] = f->row;
        return 0;
    }
    if (!ch->dim) ch->dim = f->dim;
    if (f->dim != ch->dim) return ch->bad = 1;
    if (ch->n_add == ch->cap_add) {
        ch->cap_add = ch->cap_add ? 2 * ch->cap_add : 256;
        int64_t *r = realloc(ch->add_rows, sizeof *r * ch->cap_add);
        float *v = r ? realloc(ch->add_vecs, sizeof *v * ch->cap_add * (size_t)ch->dim) : NULL;
        if (r) ch->add_rows = r;
        if (!v) return ch->bad = 1;
        ch->add_vecs = v;
    }
    ch->add_rows[ch->n_add] = f->row;
    memcpy(ch->add_vecs + ch->n_add * (size_t)ch->dim, f->embedding, sizeof(float) * (size_t)ch->dim);
    ch->n_add++;
    return 0;
}

static void changes_free(changes *ch) { free(ch->add_rows); free(ch->del_rows); free(ch->add_vecs); }

/* Read the changes after `after` (0: every live row). 0 = ok. */
static int read_changes(vf_srv_store *st, const char *id, int64_t after, changes *ch, int64_t *last) {
    if (!vf_srv_store_faces_since(st, id, after, collect, ch, last) && !ch->bad) return 0;
    changes_free(ch);
    return -1;
}

/* Apply a delta to ix (removes first: a row is never re-added). 0 = ok. */
static int apply(vf_faceindex *ix, const changes *ch) {
    return vf_faceindex_remove(ix, ch->del_rows, ch->n_del) < 0 || vf_faceindex_add(ix, ch->add_rows, ch->add_vecs, ch->n_add) ? -1 : 0;
}

/* Publish nx in place of the old index once no search holds it; called under mu. Returns the old
 * one, for the caller to free once it has let go of mu (freeing 1 GB takes a while). */
static vf_faceindex *swap(coll_index *x, vf_faceindex *nx, int dim) {
    pthread_rwlock_wrlock(&x->use);
    vf_faceindex *old = x->ix;
    x->ix = nx;
    x->dim = dim;
    pthread_rwlock_unlock(&x->use);
    return old;
}

static vf_faceindex_config config_of(const coll_index *x, int dim) {
    vf_faceindex_config fc = vf_faceindex_default_config(dim);
    if (x->owner->ivf_min) fc.ivf_min = x->owner->ivf_min;
    fc.nprobe = x->owner->nprobe;
    return fc;
}

/* The background build: every live row read from the store, the index of their size built (the
 * k-means of an IVF index is most of the time), then, under mu, the changes committed since the
 * read applied to it and the swap. Nothing here holds mu or `use` while it reads or builds. */
static void *build_main(void *arg) {
    coll_index *x = arg;
    changes ch = {0};
    int64_t last = 0;
    vf_faceindex *nx = NULL;
    char err[256] = "could not read the faces";
    int dim = 0, ok = !read_changes(x->store, x->id, 0, &ch, &last);
    if (ok) {
        dim = ch.dim;
        vf_faceindex_config fc = config_of(x, dim);
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        fc.build_threads = cores > 2 ? (int)(cores / 2) : 1;   /* the other cores stay with the requests */
        ok = !ch.n_add || !vf_faceindex_build(&fc, ch.add_rows, ch.add_vecs, ch.n_add, &nx, err, sizeof err);
        changes_free(&ch);
    }
    pthread_mutex_lock(&x->mu);
    if (ok) {
        changes d = {.dim = dim};
        int64_t now_last = last;
        ok = !read_changes(x->store, x->id, last, &d, &now_last);
        if (ok && d.n_add && !nx) {   /* the collection was empty at the read, no longer */
            vf_faceindex_config fc = config_of(x, d.dim);
            ok = !vf_faceindex_build(&fc, NULL, NULL, 0, &nx, err, sizeof err);
            dim = d.dim;
        }
        if (ok && nx) ok = !apply(nx, &d);
        if (ok) {
            nx = swap(x, nx, dim);   /* from here nx is the old index */
            x->seen = now_last;
        }
        changes_free(&d);
    }
    if (!ok) {
        fprintf(stderr, "veriface-server: collection %s: index build: %s (the current index stays)\n", x->id, err);
        x->failed_at = (int64_t)vf_srv_mono_ms();
    }
    x->building = 0;
    pthread_mutex_unlock(&x->mu);
    vf_faceindex_free(nx);
    return NULL;
}

/* Bring x up to the store; under mu. 0 = ok. */
static int refresh_locked(coll_index *x, vf_srv_store *st) {
    if (x->joinable && !x->building) {   /* a finished build's thread */
        pthread_join(x->builder, NULL);
        x->joinable = 0;
    }
    if (!x->ix) {
        /* first use (or no face yet): a flat index of every live row, no training to wait for */
        changes ch = {.dim = x->dim};
        int64_t last = 0;
        if (read_changes(st, x->id, 0, &ch, &last)) return -1;
        if (ch.n_add) {
            vf_faceindex_config fc = config_of(x, ch.dim);
            fc.ivf_min = (size_t)-1;
            vf_faceindex *nx = NULL;
            char err[256];
            if (vf_faceindex_build(&fc, ch.add_rows, ch.add_vecs, ch.n_add, &nx, err, sizeof err)) {
                fprintf(stderr, "veriface-server: collection %s: index build: %s\n", x->id, err);
                changes_free(&ch);
                return -1;
            }
            vf_faceindex_free(swap(x, nx, ch.dim));   /* there was none */
        }
        x->seen = last;
        changes_free(&ch);
    } else {
        changes ch = {.dim = x->dim};
        int64_t last = x->seen;
        if (read_changes(st, x->id, x->seen, &ch, &last)) return -1;
        /* FAISS add/remove must not run under a search of the same index: exclusive for the delta */
        int rc = 0;
        if (ch.n_add || ch.n_del) {
            pthread_rwlock_wrlock(&x->use);
            rc = apply(x->ix, &ch);
            pthread_rwlock_unlock(&x->use);
        }
        changes_free(&ch);
        if (rc) return -1;
        x->seen = last;
    }
    if (x->ix && !x->building && (!x->failed_at || (int64_t)vf_srv_mono_ms() - x->failed_at > RETRY_MS)) {
        vf_faceindex_config fc = config_of(x, x->dim);
        size_t n = vf_faceindex_count(x->ix);
        int want_ivf = n >= fc.ivf_min && vf_faceindex_kind_of(x->ix) == VF_FACEINDEX_FLAT;
        if (want_ivf || vf_faceindex_stale(x->ix)) {
            x->store = st;
            x->building = 1;
            if (pthread_create(&x->builder, NULL, build_main, x)) x->building = 0;
            else x->joinable = 1;
        }
    }
    return 0;
}

static coll_index *refreshed(vf_srv_collections *c, vf_srv_store *st, const char *id) {
    coll_index *x = index_of(c, id);
    if (!x) return NULL;
    pthread_mutex_lock(&x->mu);
    int rc = refresh_locked(x, st);
    pthread_mutex_unlock(&x->mu);
    return rc ? NULL : x;
}

int vf_srv_collindex_refresh(vf_srv_collections *c, vf_srv_store *st, const char *id) { return refreshed(c, st, id) ? 0 : -1; }

int vf_srv_collindex_search(vf_srv_collections *c, vf_srv_store *st, const char *id, const float *emb, int dim, int k,
                            float min_score, vf_faceindex_hit *hits) {
    coll_index *x = refreshed(c, st, id);
    if (!x) return -1;
    pthread_rwlock_rdlock(&x->use);
    int n = !x->ix ? 0 : dim != x->dim ? -2 : vf_faceindex_search(x->ix, emb, k, min_score, hits);
    pthread_rwlock_unlock(&x->use);
    return n == -1 ? -3 : n;
}

int vf_srv_collindex_info_of(vf_srv_collections *c, vf_srv_store *st, const char *id, vf_srv_collindex_info *out) {
    coll_index *x = refreshed(c, st, id);
    if (!x) return -1;
    pthread_mutex_lock(&x->mu);
    out->building = x->building;
    pthread_mutex_unlock(&x->mu);
    pthread_rwlock_rdlock(&x->use);
    out->faces = x->ix ? vf_faceindex_count(x->ix) : 0;
    out->kind = x->ix ? vf_faceindex_kind_name(vf_faceindex_kind_of(x->ix)) : "none";
    pthread_rwlock_unlock(&x->use);
    return 0;
}
