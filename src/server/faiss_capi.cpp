// faiss_capi.cpp - the part of FAISS's C API that faceindex.c calls, defined here because Debian's
// libfaiss-dev 1.7.3 ships the C API's headers (<faiss/c_api/...>) but not its library: libfaiss.a
// holds the C++ objects only. Each function below is declared by those headers (the compiler checks
// every signature against them) and does what the C API documents: the C++ call, exceptions caught
// and turned into a negative return with the message kept for faiss_get_last_error(). Our code;
// drop this file when Debian builds libfaiss_c.
#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/IndexIVFFlat_c.h>
#include <faiss/c_api/MetaIndexes_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/IDSelector.h>

#include <exception>
#include <string>

namespace {
thread_local std::string last_error;

template <class F> int guarded(F f) {
    try {
        f();
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
        return -2;
    } catch (...) {
        last_error = "unknown error";
        return -1;
    }
}

faiss::Index *ix(FaissIndex *p) { return reinterpret_cast<faiss::Index *>(p); }
const faiss::Index *ix(const FaissIndex *p) { return reinterpret_cast<const faiss::Index *>(p); }
faiss::IndexIVF *ivf(FaissIndexIVF *p) { return dynamic_cast<faiss::IndexIVF *>(ix(p)); }
}  // namespace

extern "C" {

const char *faiss_get_last_error() { return last_error.empty() ? nullptr : last_error.c_str(); }

void faiss_Index_free(FaissIndex *p) { delete ix(p); }
int faiss_Index_d(const FaissIndex *p) { return ix(p)->d; }
int faiss_Index_is_trained(const FaissIndex *p) { return ix(p)->is_trained; }
idx_t faiss_Index_ntotal(const FaissIndex *p) { return ix(p)->ntotal; }

int faiss_Index_train(FaissIndex *p, idx_t n, const float *x) { return guarded([&] { ix(p)->train(n, x); }); }
int faiss_Index_add_with_ids(FaissIndex *p, idx_t n, const float *x, const idx_t *ids) {
    return guarded([&] { ix(p)->add_with_ids(n, x, ids); });
}
int faiss_Index_search(const FaissIndex *p, idx_t n, const float *x, idx_t k, float *d, idx_t *l) {
    return guarded([&] { ix(p)->search(n, x, k, d, l); });
}
int faiss_Index_remove_ids(FaissIndex *p, const FaissIDSelector *sel, size_t *n_removed) {
    return guarded([&] {
        size_t r = ix(p)->remove_ids(*reinterpret_cast<const faiss::IDSelector *>(sel));
        if (n_removed) *n_removed = r;
    });
}

int faiss_IndexFlatIP_new_with(FaissIndexFlatIP **out, idx_t d) {
    return guarded([&] { *out = reinterpret_cast<FaissIndexFlatIP *>(new faiss::IndexFlatIP(d)); });
}

// IndexFlat has no ids of its own: the map turns faiss's positions into the caller's ids.
int faiss_IndexIDMap_new(FaissIndexIDMap **out, FaissIndex *inner) {
    return guarded([&] { *out = reinterpret_cast<FaissIndexIDMap *>(new faiss::IndexIDMap(ix(inner))); });
}
void faiss_IndexIDMap_set_own_fields(FaissIndexIDMap *p, int v) {
    dynamic_cast<faiss::IndexIDMap *>(ix(p))->own_fields = v != 0;
}

int faiss_IndexIVFFlat_new_with_metric(FaissIndexIVFFlat **out, FaissIndex *quantizer, size_t d, size_t nlist,
                                       FaissMetricType metric) {
    return guarded([&] {
        *out = reinterpret_cast<FaissIndexIVFFlat *>(
            new faiss::IndexIVFFlat(ix(quantizer), d, nlist, static_cast<faiss::MetricType>(metric)));
    });
}
size_t faiss_IndexIVF_nprobe(const FaissIndexIVF *p) {
    return dynamic_cast<const faiss::IndexIVF *>(ix(p))->nprobe;
}
void faiss_IndexIVF_set_nprobe(FaissIndexIVF *p, size_t v) { ivf(p)->nprobe = v; }
size_t faiss_IndexIVF_nlist(const FaissIndexIVF *p) { return dynamic_cast<const faiss::IndexIVF *>(ix(p))->nlist; }
void faiss_IndexIVF_set_own_fields(FaissIndexIVF *p, int v) { ivf(p)->own_fields = v != 0; }

// k-means with our parameters (a sample and few iterations: training time grows as n x nlist).
void faiss_ClusteringParameters_init(FaissClusteringParameters *p) {
    faiss::ClusteringParameters d;
    p->niter = d.niter; p->nredo = d.nredo; p->verbose = d.verbose; p->spherical = d.spherical;
    p->int_centroids = d.int_centroids; p->update_index = d.update_index; p->frozen_centroids = d.frozen_centroids;
    p->min_points_per_centroid = d.min_points_per_centroid; p->max_points_per_centroid = d.max_points_per_centroid;
    p->seed = d.seed; p->decode_block_size = d.decode_block_size;
}
int faiss_Clustering_new_with_params(FaissClustering **out, int d, int k, const FaissClusteringParameters *p) {
    return guarded([&] {
        faiss::ClusteringParameters cp;
        cp.niter = p->niter; cp.nredo = p->nredo; cp.verbose = p->verbose; cp.spherical = p->spherical;
        cp.int_centroids = p->int_centroids; cp.update_index = p->update_index; cp.frozen_centroids = p->frozen_centroids;
        cp.min_points_per_centroid = p->min_points_per_centroid; cp.max_points_per_centroid = p->max_points_per_centroid;
        cp.seed = p->seed; cp.decode_block_size = p->decode_block_size;
        *out = reinterpret_cast<FaissClustering *>(new faiss::Clustering(d, k, cp));
    });
}
int faiss_Clustering_train(FaissClustering *c, idx_t n, const float *x, FaissIndex *index) {
    return guarded([&] { reinterpret_cast<faiss::Clustering *>(c)->train(n, x, *ix(index)); });
}
void faiss_Clustering_free(FaissClustering *c) { delete reinterpret_cast<faiss::Clustering *>(c); }

int faiss_IDSelectorBatch_new(FaissIDSelectorBatch **out, size_t n, const idx_t *ids) {
    return guarded([&] { *out = reinterpret_cast<FaissIDSelectorBatch *>(new faiss::IDSelectorBatch(n, ids)); });
}
void faiss_IDSelector_free(FaissIDSelector *p) { delete reinterpret_cast<faiss::IDSelector *>(p); }

}  // extern "C"
