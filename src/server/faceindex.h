/* faceindex.h - the in-memory search index of one face collection, on FAISS through its C API:
 * exact inner product (IndexFlatIP) on L2-normalised embeddings for small collections, an inverted
 * file (inner product, k-means centroids trained on the collection) for large ones, chosen by size
 * when built. The inverted file's lists hold 8- or 4-bit codes scanned by our AVX2 kernel, and
 * the shortlist of k * k_factor is re-ranked on the exact vectors (faiss_ivfsq.h; code_bits 0:
 * FAISS's IndexIVFFlat, lists of floats). The store is the source of truth: an index is built from its rows
 * and kept up to date with adds and removes; it is never written anywhere. Thread-safe: searches
 * share a read lock, adds and removes take the write lock; a search runs on its caller's thread. */
#ifndef VF_SERVER_FACEINDEX_H
#define VF_SERVER_FACEINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_faceindex_config {
    int dim;                          /* embedding dimension (192 for mobilefacenet-expo) */
    size_t ivf_min;                   /* from this many faces an IVF index is built (50 000) */
    int nlist;                        /* IVF lists; 0 = sqrt(n) at build, at most n / 39 */
    int nprobe;                       /* IVF lists visited per search; 0 = 60% of nlist */
    int code_bits;                    /* IVF lists of 4- (default) or 8-bit codes re-ranked exactly (faiss_ivfsq.h), 0 = floats */
    int k_factor;                     /* codes: the shortlist re-ranked is k * k_factor (0 = 32 for 4-bit codes, 8 for 8-bit) */
    int build_threads;                /* OpenMP threads of a build (0: the caller's default, every core) */
} vf_faceindex_config;

typedef enum vf_faceindex_kind { VF_FACEINDEX_FLAT = 0, VF_FACEINDEX_IVF = 1 } vf_faceindex_kind;

typedef struct vf_faceindex_hit { int64_t id; float score; } vf_faceindex_hit;   /* score = cosine */

typedef struct vf_faceindex vf_faceindex;

vf_faceindex_config vf_faceindex_default_config(int dim);
/* Build from n rows (ids[i], vecs + i * dim; normalised here): flat below c->ivf_min, else IVF
 * trained on these vectors. 0 = ok, else -1 with the reason in err. */
int vf_faceindex_build(const vf_faceindex_config *c, const int64_t *ids, const float *vecs, size_t n, vf_faceindex **out,
                       char *err, size_t errsz);
void vf_faceindex_free(vf_faceindex *x);
/* Add rows (an IVF index keeps its centroids; see vf_faceindex_stale). 0 = ok, -1 = error. */
int vf_faceindex_add(vf_faceindex *x, const int64_t *ids, const float *vecs, size_t n);
/* Remove rows by id; unknown ids are ignored. Returns the number removed, -1 on error. */
long vf_faceindex_remove(vf_faceindex *x, const int64_t *ids, size_t n);
/* The k (1..100) most similar rows to q (normalised here) with score >= min_score, best first.
 * Returns the number of hits, -1 on error. */
int vf_faceindex_search(vf_faceindex *x, const float *q, int k, float min_score, vf_faceindex_hit *hits);
size_t vf_faceindex_count(vf_faceindex *x);
vf_faceindex_kind vf_faceindex_kind_of(const vf_faceindex *x);
int vf_faceindex_nlist(const vf_faceindex *x);       /* 0 for flat */
void vf_faceindex_set_nprobe(vf_faceindex *x, int nprobe);
void vf_faceindex_set_k_factor(vf_faceindex *x, int k_factor);   /* coded IVF only */
int vf_faceindex_nprobe(const vf_faceindex *x);     /* 0 for flat */
int vf_faceindex_k_factor(const vf_faceindex *x);   /* 0 unless coded IVF */
const char *vf_faceindex_kernel_name(void);          /* the codes' scan kernel: "avx2" or "generic" */
/* 1 when a rebuild would choose another shape: flat grown to ivf_min, or IVF grown to 4x (or shrunk
 * to a quarter of) the size its centroids were trained on, or under ivf_min / 2. */
int vf_faceindex_stale(vf_faceindex *x);
const char *vf_faceindex_kind_name(vf_faceindex_kind k);

#endif
