// faiss_ivfsq.cpp - the IVF index of large collections (faiss_ivfsq.h). Why our own scan: Debian's
// libfaiss is a generic build (SSE2, no AVX2), and a search at 1M faces spends its time reading the
// vectors of the lists it probes (40-60% of them for recall@5 0.99 on face-like data, all of them on
// structureless data; tools/bench-index): 768 bytes a face in float, and FAISS's generic scalar-code
// scanner decodes component by component, slower than the float scan. Here the lists hold 4- or
// 8-bit codes (96 or 192 bytes a face), FAISS's ScalarQuantizer with a range per dimension; the
// decoding x_j = vmin_j + (c_j + 0.5) vdiff_j / levels is folded into the query once
// (q.x = c0 + sum_j w_j c_j, the w_j as 8-bit integers for 4-bit codes, 16-bit for 8-bit ones), and
// the sum runs with AVX2 when the CPU has it (checked at run time; else a plain loop). The scan of
// 4-bit codes is bound by memory (3.2 ms for 600k codes from RAM, 2.2 ms from cache), so the codes'
// size is what counts: the server's default. The coded scores only choose a shortlist
// (k * k_factor): each is scored again on the exact vector, kept here by id, and the best k by that
// exact score are the answer. FAISS does everything else: the coarse quantizer, the lists, adds,
// removes, the search driver.
#include "faiss_ivfsq.h"

#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/Heap.h>

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <unordered_map>
#include <vector>

using faiss::Index;
using idx_t = faiss::Index::idx_t;

namespace {

/* The scores of n 8-bit codes (one byte a component): c0 + scale * sum_j w_j c_j, with the weights
 * as 16-bit integers (|w_j| <= 16383: a relative rounding of 3e-5, far below what the codes lose). */
void scores8_generic(const int16_t *w, const uint8_t *codes, size_t n, int d, float c0, float scale, float *out) {
    for (size_t i = 0; i < n; i++, codes += d) {
        int32_t s = 0;
        for (int j = 0; j < d; j++) s += (int32_t)w[j] * codes[j];
        out[i] = c0 + scale * (float)s;
    }
}

/* 4-bit codes (FAISS's layout: component i in byte i / 2, low nibble first): the weights are 8-bit
 * integers (|w_j| <= 127; their rounding is below what 4-bit codes lose, and the exact re-ranking
 * decides), in blocks of 64 components (32 bytes of codes): the 32 even components' weights (low
 * nibbles), then the 32 odd ones', so a block's nibbles multiply without reordering; components
 * past the last block keep their place. */
int32_t tail4(const int8_t *w, const uint8_t *code, int from, int d) {
    int32_t s = 0;
    for (int j = from; j < d; j++) s += (int32_t)w[j] * ((code[j / 2] >> ((j & 1) * 4)) & 15);
    return s;
}

void scores4_generic(const int8_t *w, const uint8_t *codes, size_t n, int d, float c0, float scale, float *out) {
    int d64 = d & ~63, cs = (d + 1) / 2;
    for (size_t i = 0; i < n; i++, codes += cs) {
        int32_t s = 0;
        for (int j = 0; j < d64; j += 64)
            for (int t = 0; t < 32; t++) s += (int32_t)w[j + t] * (codes[j / 2 + t] & 15) + (int32_t)w[j + 32 + t] * (codes[j / 2 + t] >> 4);
        out[i] = c0 + scale * (float)(s + tail4(w, codes, d64, d));
    }
}

/* AVX2: 16 components a step, widened to 16 bits and multiplied-added in pairs (vpmaddwd) into 32-bit
 * sums (255 * 16383 * 2 * d / 16 stays far below 2^31 for d <= 4096). */
__attribute__((target("avx2"))) int32_t hsum(__m256i acc) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

__attribute__((target("avx2"))) void scores8_avx2(const int16_t *w, const uint8_t *codes, size_t n, int d, float c0, float scale,
                                                  float *out) {
    int d16 = d & ~15;
    for (size_t i = 0; i < n; i++, codes += d) {
        __m256i acc = _mm256_setzero_si256();
        for (int j = 0; j < d16; j += 16) {
            __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(codes + j)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + j))));
        }
        int32_t s = hsum(acc);
        for (int j = d16; j < d; j++) s += (int32_t)w[j] * codes[j];
        out[i] = c0 + scale * (float)s;
    }
}

/* The 8 sums of a[0..7]'s lanes, in order. */
__attribute__((target("avx2"))) __m256i hsum8(const __m256i *a) {
    __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
    __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[4], a[5]), _mm256_hadd_epi32(a[6], a[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* 4-bit: a block's low and high nibbles times their 8-bit weights, pairs added (vpmaddubsw: at most
 * 2 * 15 * 127 a lane, no saturation) into 16-bit sums, widened to 32 bits every 4 blocks (16 * 1905
 * < 2^15); eight codes at a time, so that one reduction serves eight. */
__attribute__((target("avx2"))) void scores4_avx2(const int8_t *w, const uint8_t *codes, size_t n, int d, float c0, float scale,
                                                  float *out) {
    const int d64 = d & ~63, cs = (d + 1) / 2;
    const __m256i low = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    const __m256 vc0 = _mm256_set1_ps(c0), vscale = _mm256_set1_ps(scale);
    const size_t bytes = n * cs;
    size_t i = 0;
    for (; i + 8 <= n; i += 8, codes += 8 * cs) {
        /* 2 KB ahead, within the list: 10-15% faster from RAM (the hardware's prefetcher starts late
         * on each list and stops at page ends) */
        for (size_t at = i * cs + 2048, end = std::min(bytes, at + 8 * cs); at < end; at += 64)
            _mm_prefetch(reinterpret_cast<const char *>(codes) + (at - i * cs), _MM_HINT_T0);
        __m256i acc[8];
        for (int c = 0; c < 8; c++) {
            const uint8_t *code = codes + c * cs;
            __m256i a32 = _mm256_setzero_si256();
            for (int j0 = 0; j0 < d64; j0 += 256) {
                __m256i a16 = _mm256_setzero_si256();
                for (int j = j0; j < d64 && j < j0 + 256; j += 64) {
                    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(code + j / 2));
                    __m256i lo = _mm256_and_si256(b, low), hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), low);
                    a16 = _mm256_add_epi16(a16, _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + j))));
                    a16 = _mm256_add_epi16(a16, _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(w + j + 32))));
                }
                a32 = _mm256_add_epi32(a32, _mm256_madd_epi16(a16, ones));
            }
            acc[c] = a32;
        }
        __m256i s = hsum8(acc);
        if (d64 < d) {
            alignas(32) int32_t t[8];
            _mm256_store_si256(reinterpret_cast<__m256i *>(t), s);
            for (int c = 0; c < 8; c++) t[c] += tail4(w, codes + c * cs, d64, d);
            s = _mm256_load_si256(reinterpret_cast<const __m256i *>(t));
        }
        _mm256_storeu_ps(out + i, _mm256_add_ps(vc0, _mm256_mul_ps(vscale, _mm256_cvtepi32_ps(s))));
    }
    if (i < n) scores4_generic(w, codes, n - i, d, c0, scale, out + i);
}

using scores8_fn = void (*)(const int16_t *, const uint8_t *, size_t, int, float, float, float *);
using scores4_fn = void (*)(const int8_t *, const uint8_t *, size_t, int, float, float, float *);
// The CPU does not change while the process runs: one check, then a constant.
bool has_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}

struct IVFSQ : faiss::IndexIVFScalarQuantizer {
    int bits;
    IVFSQ(Index *q, int d, int nlist, int bits)
        : faiss::IndexIVFScalarQuantizer(q, d, nlist, bits == 4 ? faiss::ScalarQuantizer::QT_4bit : faiss::ScalarQuantizer::QT_8bit,
                                         faiss::METRIC_INNER_PRODUCT, false),
          bits(bits) {}
    faiss::InvertedListScanner *get_InvertedListScanner(bool store_pairs, const faiss::IDSelector *sel) const override;
};

struct Scanner : faiss::InvertedListScanner {
    const IVFSQ &ix;
    std::vector<int16_t> w16;   // 8-bit codes' weights
    std::vector<int8_t> w8;     // 4-bit codes' weights, in blocks
    float c0 = 0, scale = 1;
    scores8_fn scores8 = has_avx2() ? scores8_avx2 : scores8_generic;
    scores4_fn scores4 = has_avx2() ? scores4_avx2 : scores4_generic;
    Scanner(const IVFSQ &ix, bool store_pairs, const faiss::IDSelector *sel)
        : faiss::InvertedListScanner(store_pairs, sel), ix(ix), w16(ix.bits == 8 ? ix.d : 0), w8(ix.bits == 4 ? ix.d : 0) {
        keep_max = true;
        code_size = ix.code_size;
    }
    void set_query(const float *q) override {
        const int d = ix.d;
        const float *vmin = ix.sq.trained.data(), *vdiff = vmin + d;   // non-uniform: d minima, then d ranges
        const float levels = ix.bits == 4 ? 15.f : 255.f, top = ix.bits == 4 ? 127.f : 16383.f;
        std::vector<float> wf(d);
        double c = 0;
        float big = 0;
        for (int j = 0; j < d; j++) {
            wf[j] = q[j] * vdiff[j] / levels;
            big = std::max(big, std::fabs(wf[j]));
            c += (double)q[j] * (vmin[j] + 0.5 * vdiff[j] / levels);
        }
        scale = big > 0 ? big / top : 1.f;
        for (int j = 0; j < d; j++) {
            long v = std::lrint(wf[j] / scale);
            if (ix.bits == 8) w16[j] = (int16_t)v;
            else w8[j < (d & ~63) ? (j & ~63) + (j & 1) * 32 + (j & 63) / 2 : j] = (int8_t)v;   // even, then odd, a block
        }
        c0 = (float)c;
    }
    void scores(const uint8_t *codes, size_t n, float *out) const {
        if (ix.bits == 8) scores8(w16.data(), codes, n, ix.d, c0, scale, out);
        else scores4(w8.data(), codes, n, ix.d, c0, scale, out);
    }
    void set_list(idx_t l, float) override { list_no = l; }
    float distance_to_code(const uint8_t *code) const override {
        float v;
        scores(code, 1, &v);
        return v;
    }
    size_t scan_codes(size_t n, const uint8_t *codes, const idx_t *ids, float *dis, idx_t *lab, size_t k) const override {
        size_t up = 0;
        float v[256];
        for (size_t i0 = 0; i0 < n; i0 += 256, codes += 256 * code_size) {
            size_t m = std::min<size_t>(256, n - i0);
            scores(codes, m, v);
            for (size_t i = 0; i < m; i++) {
                if (v[i] <= dis[0] || (sel && !sel->is_member(ids[i0 + i]))) continue;
                idx_t id = store_pairs ? (idx_t)((uint64_t)list_no << 32 | (i0 + i)) : ids[i0 + i];
                faiss::minheap_replace_top(k, dis, lab, v[i], id);
                up++;
            }
        }
        return up;
    }
};

faiss::InvertedListScanner *IVFSQ::get_InvertedListScanner(bool store_pairs, const faiss::IDSelector *sel) const {
    return new Scanner(*this, store_pairs, sel);
}

// The IVF index plus the exact vectors by id, for the re-ranking.
struct Refined : Index {
    IVFSQ ivf;
    int k_factor = 8;
    std::vector<float> exact;               // slot-major
    std::vector<idx_t> slot_id;
    std::unordered_map<idx_t, size_t> slot; // id -> slot

    Refined(Index *q, int d, int nlist, int bits) : Index(d, faiss::METRIC_INNER_PRODUCT), ivf(q, d, nlist, bits) {
        ivf.own_fields = true;
        is_trained = false;
    }
    void train(idx_t n, const float *x) override {
        ivf.train(n, x);
        is_trained = ivf.is_trained;
    }
    void add(idx_t, const float *) override { FAISS_THROW_MSG("ids required"); }
    void add_with_ids(idx_t n, const float *x, const idx_t *ids) override {
        ivf.add_with_ids(n, x, ids);
        exact.insert(exact.end(), x, x + (size_t)n * d);
        for (idx_t i = 0; i < n; i++) {
            slot[ids[i]] = slot_id.size();
            slot_id.push_back(ids[i]);
        }
        ntotal = ivf.ntotal;
    }
    void reset() override {
        ivf.reset();
        exact.clear(); slot_id.clear(); slot.clear();
        ntotal = 0;
    }
    void drop(idx_t id) {   // the last slot moves into the freed one
        auto it = slot.find(id);
        if (it == slot.end()) return;
        size_t s = it->second, last = slot_id.size() - 1;
        slot.erase(it);
        if (s != last) {
            std::memcpy(&exact[s * d], &exact[last * d], sizeof(float) * d);
            slot_id[s] = slot_id[last];
            slot[slot_id[s]] = s;
        }
        slot_id.pop_back();
        exact.resize(last * d);
    }
    size_t remove_ids(const faiss::IDSelector &sel) override {
        size_t n = ivf.remove_ids(sel);
        if (auto b = dynamic_cast<const faiss::IDSelectorBatch *>(&sel)) {
            for (idx_t id : b->set) drop(id);
        } else {
            std::vector<idx_t> gone;
            for (idx_t id : slot_id) if (sel.is_member(id)) gone.push_back(id);
            for (idx_t id : gone) drop(id);
        }
        ntotal = ivf.ntotal;
        return n;
    }
    void search(idx_t n, const float *x, idx_t k, float *D, idx_t *L, const faiss::SearchParameters * = nullptr) const override {
        idx_t kk = std::min<idx_t>(std::max<idx_t>(k * k_factor, k), std::max<idx_t>(ntotal, 1));
        std::vector<float> d2(kk);
        std::vector<idx_t> l2(kk);
        std::vector<std::pair<float, idx_t>> best;
        for (idx_t qi = 0; qi < n; qi++) {
            const float *q = x + qi * d;
            ivf.search(1, q, kk, d2.data(), l2.data());
            best.clear();
            for (idx_t i = 0; i < kk; i++) {
                auto it = l2[i] < 0 ? slot.end() : slot.find(l2[i]);
                if (it == slot.end()) continue;
                const float *v = &exact[it->second * d];
                float s = 0;
                for (int j = 0; j < d; j++) s += q[j] * v[j];
                best.emplace_back(s, l2[i]);
            }
            size_t m = std::min<size_t>(best.size(), (size_t)k);
            std::partial_sort(best.begin(), best.begin() + m, best.end(), [](auto &a, auto &b) { return a.first > b.first; });
            for (idx_t i = 0; i < k; i++) {
                D[qi * k + i] = (size_t)i < m ? best[i].first : -std::numeric_limits<float>::infinity();
                L[qi * k + i] = (size_t)i < m ? best[i].second : -1;
            }
        }
    }
};

}  // namespace

extern "C" {

int vf_faiss_ivfsq_new(FaissIndex **out, FaissIndex *quantizer, int d, int nlist, int bits) {
    if (bits != 8 && bits != 4) return -1;
    try {
        *out = reinterpret_cast<FaissIndex *>(new Refined(reinterpret_cast<Index *>(quantizer), d, nlist, bits));
        return 0;
    } catch (const std::exception &) {
        return -1;
    }
}

void vf_faiss_ivfsq_set(FaissIndex *index, int nprobe, int k_factor) {
    Refined *r = dynamic_cast<Refined *>(reinterpret_cast<Index *>(index));
    if (!r) return;
    if (nprobe > 0) r->ivf.nprobe = (size_t)std::min<size_t>((size_t)nprobe, r->ivf.nlist);
    if (k_factor > 0) r->k_factor = k_factor;
}

const char *vf_faiss_ivfsq_kernel(void) { return has_avx2() ? "avx2" : "generic"; }

}  // extern "C"
