/* faiss_ivfsq8.h - a FAISS index of our own (faiss_ivfsq8.cpp) behind FAISS's C API: an inverted
 * file of 8-bit scalar codes (IndexIVFScalarQuantizer, inner product, codes of the vectors
 * themselves) scanned by our kernel, the shortlist of k * k_factor re-ranked on the exact vectors,
 * which it keeps. train, add_with_ids, search, remove_ids and ntotal are faiss_Index_*'s. */
#ifndef VF_SERVER_FAISS_IVFSQ8_H
#define VF_SERVER_FAISS_IVFSQ8_H

#include <faiss/c_api/Index_c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The index over `quantizer` (trained or not; the index owns it) with nlist lists. 0 = ok. */
int vf_faiss_ivfsq8_new(FaissIndex **out, FaissIndex *quantizer, int d, int nlist);
void vf_faiss_ivfsq8_set(FaissIndex *index, int nprobe, int k_factor);
/* The scan kernel in use: "avx2" or "generic". */
const char *vf_faiss_ivfsq8_kernel(void);

#ifdef __cplusplus
}
#endif

#endif
