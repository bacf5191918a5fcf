/* faceindex.c - one collection's FAISS index (faceindex.h). FAISS does the search; this file picks
 * the index by size, normalises every vector (inner product = cosine), maps FAISS's answers back
 * to face ids and guards the index with a read-write lock (FAISS searches are const and may run
 * together; adds and removes may not run with anything). */
#include "faceindex.h"
#include "faiss_ivfsq.h"

#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/IndexIVFFlat_c.h>
#include <faiss/c_api/MetaIndexes_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vf_faceindex {
    pthread_rwlock_t lock;
    vf_faceindex_config cfg;
    vf_faceindex_kind kind;
    FaissIndex *index;                /* flat: an IndexIDMap over an IndexFlatIP; IVF: IndexIVFFlat */
    size_t trained_on;                /* rows when the IVF centroids were trained */
    int nlist, nprobe, k_factor;      /* IVF: as set */
};

vf_faceindex_config vf_faceindex_default_config(int dim) {
    vf_faceindex_config c = {dim, 50000, 0, 0, 4, 0, 0};
    return c;
}

const char *vf_faceindex_kind_name(vf_faceindex_kind k) { return k == VF_FACEINDEX_IVF ? "ivf" : "flat"; }

static void set_err(char *err, size_t es, const char *what) {
    const char *m = faiss_get_last_error();
    if (err && es) snprintf(err, es, "%s: %s", what, m ? m : "failed");
}

/* A normalised copy of n vectors; a zero vector stays zero (it matches nothing). */
static float *normalised(const float *v, size_t n, int dim) {
    float *o = malloc(sizeof(float) * n * (size_t)dim);
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        const float *a = v + i * (size_t)dim;
        double s = 0;
        for (int j = 0; j < dim; j++) s += (double)a[j] * a[j];
        float k = s > 0 ? (float)(1.0 / sqrt(s)) : 0.f;
        for (int j = 0; j < dim; j++) o[i * (size_t)dim + j] = a[j] * k;
    }
    return o;
}

static int auto_nlist(const vf_faceindex_config *c, size_t n) {
    int nl = c->nlist > 0 ? c->nlist : (int)sqrt((double)n);
    if ((size_t)nl * 39 > n) nl = (int)(n / 39);   /* FAISS's k-means wants >= 39 points a centroid */
    return nl < 1 ? 1 : nl;
}

/* 60% of the lists: recall@5 >= 0.99 at 100k and 1M faces on identity-shaped data (tools/bench-index;
 * 50% gives 0.993 at 1M but 0.989 at 100k). The scan of 4-bit codes makes that share cheap. */
static int auto_nprobe(const vf_faceindex_config *c, int nlist) {
    int np = c->nprobe > 0 ? c->nprobe : (nlist * 3 + 4) / 5;
    return np > nlist ? nlist : np < 1 ? 1 : np;
}

static void set_probes(vf_faceindex *x, int nprobe, int k_factor) {
    if (nprobe > x->nlist) nprobe = x->nlist;
    if (nprobe > 0) x->nprobe = nprobe;
    if (k_factor > 0) x->k_factor = k_factor;
    if (x->cfg.code_bits) vf_faiss_ivfsq_set(x->index, x->nprobe, x->k_factor);
    else faiss_IndexIVF_set_nprobe(x->index, (size_t)x->nprobe);
}

static int make_flat(vf_faceindex *x, char *err, size_t es) {
    FaissIndexFlatIP *flat = NULL;
    FaissIndexIDMap *map = NULL;
    if (faiss_IndexFlatIP_new_with(&flat, x->cfg.dim)) { set_err(err, es, "IndexFlatIP"); return -1; }
    if (faiss_IndexIDMap_new(&map, flat)) { faiss_Index_free(flat); set_err(err, es, "IndexIDMap"); return -1; }
    faiss_IndexIDMap_set_own_fields(map, 1);
    x->index = map;
    x->kind = VF_FACEINDEX_FLAT;
    return 0;
}

static int make_ivf(vf_faceindex *x, const float *vecs, size_t n, char *err, size_t es) {
    FaissIndexFlatIP *q = NULL;
    FaissIndex *ivf = NULL;
    int nlist = auto_nlist(&x->cfg, n), rc;
    if (faiss_IndexFlatIP_new_with(&q, x->cfg.dim)) { set_err(err, es, "IndexFlatIP"); return -1; }
    if (x->cfg.code_bits) {
        rc = vf_faiss_ivfsq_new(&ivf, q, x->cfg.dim, nlist, x->cfg.code_bits);
    } else {
        rc = faiss_IndexIVFFlat_new_with_metric((FaissIndexIVFFlat **)&ivf, q, (size_t)x->cfg.dim, (size_t)nlist, METRIC_INNER_PRODUCT);
        if (!rc) faiss_IndexIVF_set_own_fields(ivf, 1);
    }
    if (rc) {
        faiss_Index_free(q);
        set_err(err, es, "IVF index");
        return -1;
    }
    /* Spherical k-means on a sample of the collection itself, into the quantizer: FAISS's default
     * (256 points a centroid, 25 iterations) takes minutes at 1M on two cores for no measurable
     * recall (tools/bench-index). The IVF's own training then finds its quantizer trained and
     * trains only the codes' per-dimension range (on up to 65536 rows). */
    FaissClusteringParameters cp;
    faiss_ClusteringParameters_init(&cp);
    cp.spherical = 1;
    cp.niter = 12;
    cp.max_points_per_centroid = 64;
    FaissClustering *km = NULL;
    rc = faiss_Clustering_new_with_params(&km, x->cfg.dim, nlist, &cp);
    if (!rc) rc = faiss_Clustering_train(km, (idx_t)n, vecs, q);
    if (km) faiss_Clustering_free(km);
    if (!rc) rc = faiss_Index_train(ivf, (idx_t)(n < 65536 ? n : 65536), vecs);
    if (rc) { faiss_Index_free(ivf); set_err(err, es, "IVF training"); return -1; }
    x->index = ivf;
    x->kind = VF_FACEINDEX_IVF;
    x->nlist = nlist;
    x->trained_on = n;
    set_probes(x, auto_nprobe(&x->cfg, nlist), x->cfg.k_factor > 0 ? x->cfg.k_factor : x->cfg.code_bits == 4 ? 32 : 8);
    return 0;
}

int vf_faceindex_build(const vf_faceindex_config *c, const int64_t *ids, const float *vecs, size_t n, vf_faceindex **out,
                       char *err, size_t es) {
    *out = NULL;
    if (c->dim < 1 || c->dim > 4096) { snprintf(err, es, "dimension %d out of 1..4096", c->dim); return -1; }
    vf_faceindex *x = calloc(1, sizeof *x);
    float *nv = n ? normalised(vecs, n, c->dim) : NULL;
    if (!x || (n && !nv)) { free(x); free(nv); snprintf(err, es, "out of memory"); return -1; }
    x->cfg = *c;
    int threads = omp_get_max_threads();   /* this thread's OpenMP team size (the k-means, the adds) */
    if (c->build_threads > 0) omp_set_num_threads(c->build_threads);
    int rc = n >= c->ivf_min && n >= 39 ? make_ivf(x, nv, n, err, es) : make_flat(x, err, es);
    if (!rc && n && faiss_Index_add_with_ids(x->index, (idx_t)n, nv, (const idx_t *)ids)) { set_err(err, es, "add"); rc = -1; }
    omp_set_num_threads(threads);
    free(nv);
    if (rc) {
        if (x->index) faiss_Index_free(x->index);
        free(x);
        return -1;
    }
    pthread_rwlock_init(&x->lock, NULL);
    *out = x;
    return 0;
}

void vf_faceindex_free(vf_faceindex *x) {
    if (!x) return;
    faiss_Index_free(x->index);
    pthread_rwlock_destroy(&x->lock);
    free(x);
}

int vf_faceindex_add(vf_faceindex *x, const int64_t *ids, const float *vecs, size_t n) {
    if (!n) return 0;
    float *nv = normalised(vecs, n, x->cfg.dim);
    if (!nv) return -1;
    pthread_rwlock_wrlock(&x->lock);
    int rc = faiss_Index_add_with_ids(x->index, (idx_t)n, nv, (const idx_t *)ids) ? -1 : 0;
    pthread_rwlock_unlock(&x->lock);
    free(nv);
    return rc;
}

long vf_faceindex_remove(vf_faceindex *x, const int64_t *ids, size_t n) {
    if (!n) return 0;
    FaissIDSelectorBatch *sel = NULL;
    if (faiss_IDSelectorBatch_new(&sel, n, (const idx_t *)ids)) return -1;
    size_t removed = 0;
    pthread_rwlock_wrlock(&x->lock);
    int rc = faiss_Index_remove_ids(x->index, (const FaissIDSelector *)sel, &removed);
    pthread_rwlock_unlock(&x->lock);
    faiss_IDSelector_free((FaissIDSelector *)sel);
    return rc ? -1 : (long)removed;
}

int vf_faceindex_search(vf_faceindex *x, const float *q, int k, float min_score, vf_faceindex_hit *hits) {
    if (k < 1 || k > 100) return -1;
    float *nq = normalised(q, 1, x->cfg.dim), d[100];
    idx_t l[100];
    if (!nq) return -1;
    /* one query, one thread: the server's parallelism is its requests (an OpenMP team per search
     * only spins against them) */
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    pthread_rwlock_rdlock(&x->lock);
    int rc = faiss_Index_ntotal(x->index) == 0 ? 1 : faiss_Index_search(x->index, 1, nq, k, d, l);
    pthread_rwlock_unlock(&x->lock);
    omp_set_num_threads(threads);
    free(nq);
    if (rc == 1) return 0;
    if (rc) return -1;
    int n = 0;
    for (int i = 0; i < k; i++)
        if (l[i] >= 0 && d[i] >= min_score) hits[n++] = (vf_faceindex_hit){(int64_t)l[i], d[i]};
    return n;
}

size_t vf_faceindex_count(vf_faceindex *x) {
    pthread_rwlock_rdlock(&x->lock);
    size_t n = (size_t)faiss_Index_ntotal(x->index);
    pthread_rwlock_unlock(&x->lock);
    return n;
}

vf_faceindex_kind vf_faceindex_kind_of(const vf_faceindex *x) { return x->kind; }
int vf_faceindex_nlist(const vf_faceindex *x) { return x->kind == VF_FACEINDEX_IVF ? x->nlist : 0; }

void vf_faceindex_set_nprobe(vf_faceindex *x, int nprobe) {
    if (x->kind != VF_FACEINDEX_IVF || nprobe < 1) return;
    pthread_rwlock_wrlock(&x->lock);
    set_probes(x, nprobe, 0);
    pthread_rwlock_unlock(&x->lock);
}

void vf_faceindex_set_k_factor(vf_faceindex *x, int k_factor) {
    if (x->kind != VF_FACEINDEX_IVF || !x->cfg.code_bits || k_factor < 1) return;
    pthread_rwlock_wrlock(&x->lock);
    set_probes(x, 0, k_factor);
    pthread_rwlock_unlock(&x->lock);
}

int vf_faceindex_nprobe(const vf_faceindex *x) { return x->kind == VF_FACEINDEX_IVF ? x->nprobe : 0; }
int vf_faceindex_k_factor(const vf_faceindex *x) { return x->kind == VF_FACEINDEX_IVF && x->cfg.code_bits ? x->k_factor : 0; }
const char *vf_faceindex_kernel_name(void) { return vf_faiss_ivfsq_kernel(); }

int vf_faceindex_stale(vf_faceindex *x) {
    size_t n = vf_faceindex_count(x);
    if (x->kind == VF_FACEINDEX_FLAT) return n >= x->cfg.ivf_min;
    return n >= 4 * x->trained_on || n * 4 <= x->trained_on || n * 2 < x->cfg.ivf_min;
}
