/* faiss_ivfsq.h - a FAISS index of our own (faiss_ivfsq.cpp) behind FAISS's C API: an inverted
 * file of 8- or 4-bit scalar codes (IndexIVFScalarQuantizer, inner product, codes of the vectors
 * themselves) scanned by our kernel, the shortlist of k * k_factor re-ranked on the exact vectors,
 * which it keeps. train, add_with_ids, search, remove_ids and ntotal are faiss_Index_*'s. */
#ifndef VF_SERVER_FAISS_IVFSQ_H
#define VF_SERVER_FAISS_IVFSQ_H

#include <faiss/c_api/Index_c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The index over `quantizer` (trained or not; the index owns it) with nlist lists of `bits` (8 or 4)
 * bit codes. 0 = ok. */
int vf_faiss_ivfsq_new(FaissIndex **out, FaissIndex *quantizer, int d, int nlist, int bits);
/* nprobe (capped at nlist), k_factor; a value < 1 leaves that one as it is. */
void vf_faiss_ivfsq_set(FaissIndex *index, int nprobe, int k_factor);
/* The scan kernel in use: "avx2" or "generic". */
const char *vf_faiss_ivfsq_kernel(void);

#ifdef __cplusplus
}
#endif

#endif
