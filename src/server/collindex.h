/* collindex.h - this process's FAISS index of each face collection (faceindex.h), kept up to date
 * from the store, which is the source of truth. Before each use the changes committed since the
 * last one applied are read (one indexed query) and applied: adds added, tombstones removed. A
 * rebuild (no index yet at or above ivf_min, or a shape gone stale: flat grown to ivf_min, IVF
 * grown 4x) runs on a thread of its own from a full read of the store; searches go on with the old
 * index, kept current, until the new one has caught up with the changes committed during the
 * build and is swapped in under the collection's lock. A collection's first use builds a flat
 * index synchronously (there is nothing older to answer from; no training, so the time of a scan)
 * and, at ivf_min faces or more, starts the background build of the IVF one. */
#ifndef VF_SERVER_COLLINDEX_H
#define VF_SERVER_COLLINDEX_H

#include "faceindex.h"
#include "server.h"   /* the store (store.h needs its session types) */

#include <stddef.h>

/* vf_srv_collections (server.h): create(ivf_min, nprobe), where 0 takes vf_faceindex_config's
 * defaults; free waits for builds still running (they read the store: free it before the store). */

/* Collection `id` brought up to the store (and a rebuild started when due). 0 = ok, -1 = the store failed. */
int vf_srv_collindex_refresh(vf_srv_collections *c, vf_srv_store *st, const char *id);
/* Collection `id` brought up to the store, then its k (1..100) best hits with score >= min_score.
 * Returns the number of hits, -1 = the store failed, -2 = dim is not the collection's, -3 = the
 * search failed. */
int vf_srv_collindex_search(vf_srv_collections *c, vf_srv_store *st, const char *id, const float *emb, int dim, int k,
                            float min_score, vf_faceindex_hit *hits);

typedef struct vf_srv_collindex_info {
    size_t faces;                     /* live faces in this instance's index */
    const char *kind;                 /* "none", "flat", "ivf" */
    int building;                     /* 1 while a rebuild runs in the background */
} vf_srv_collindex_info;
/* Collection `id` brought up to the store, then what its index is. 0 = ok, -1 = the store failed. */
int vf_srv_collindex_info_of(vf_srv_collections *c, vf_srv_store *st, const char *id, vf_srv_collindex_info *out);

#endif
