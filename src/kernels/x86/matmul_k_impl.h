// x86 matmul of the K super-block formats (Q4_K, Q5_K, Q6_K) with kQ8K activations.
// Included by avx2/ and avx512/.
//
// Per row and 256-block the weights are unpacked once into 8 registers of 32 levels
// and reused for up to T tokens (prefill). The integer sum per block is exact: scales
// multiply 16-bit pair sums (madd), mins and the Q6_K offset (-32) go through the
// activation's 16-element sums. Each (row, token) pair runs the same instruction sequence
// for any T, so results do not depend on batching tiles or row ranges.
#pragma once

#include <cmath>

#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

namespace omnicoder {
namespace {

// Q4_K/Q5_K: 8 sub-blocks of 32 levels, their 6-bit scales and mins.
struct Q45Block {
  __m256i q[8];
  alignas(16) int16_t sc[8];
  alignas(16) int16_t mn[8];
  float d, dmin;
};

template <bool kFive>
inline void UnpackQ45(const uint8_t* blk, Q45Block* u) {
  // 12 scale bytes as words a|b|c: sc0-3 = a & 63, mn0-3 = b & 63, sc4-7 / mn4-7 take
  // their low nibble from c and their top 2 bits from the top of a / b.
  uint32_t wa, wb, wc;
  std::memcpy(&wa, blk + 4, 4);
  std::memcpy(&wb, blk + 8, 4);
  std::memcpy(&wc, blk + 12, 4);
  const uint32_t sc_lo = wa & 0x3f3f3f3fu, mn_lo = wb & 0x3f3f3f3fu;
  const uint32_t sc_hi = (wc & 0x0f0f0f0fu) | (((wa >> 6) & 0x03030303u) << 4);
  const uint32_t mn_hi = ((wc >> 4) & 0x0f0f0f0fu) | (((wb >> 6) & 0x03030303u) << 4);
  const __m128i bytes = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(mn_lo),
                                       static_cast<int>(mn_hi));
  _mm_store_si128(reinterpret_cast<__m128i*>(u->sc), _mm_cvtepu8_epi16(bytes));
  _mm_store_si128(reinterpret_cast<__m128i*>(u->mn), _mm_cvtepu8_epi16(_mm_srli_si128(bytes, 8)));
  u->d = HalfToFloat(blk);
  u->dmin = HalfToFloat(blk + 2);
  const uint8_t* qs = kFive ? blk + 48 : blk + 16;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256i h;
  if constexpr (kFive) h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
    __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    if constexpr (kFive) {
      const __m256i one = _mm256_set1_epi8(1);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c), one), 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c + 1), one), 4));
    }
    u->q[2 * c] = lo;
    u->q[2 * c + 1] = hi;
  }
}

// One token: sum_j sc_j * dot(q_j, x_j) (8 lanes) and sum_j mn_j * bsum-pair_j (4 lanes).
inline void DotQ45(const Q45Block& u, const int8_t* xq, const int16_t* bsums, __m256i* isum, __m128i* msum) {
  __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * j));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u.q[j], x), _mm256_set1_epi16(u.sc[j])));
  }
  *isum = acc;
  const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums));
  const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8));
  *msum = _mm_madd_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(u.mn)), _mm_hadd_epi16(b0, b1));
}

template <bool kFive, int T>
__attribute__((always_inline)) inline void Q45Row(const MatMulArgs& a, int r) {
  constexpr size_t kBytes = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const int nb = a.in_dim / 256;
  const uint8_t* w = a.w + static_cast<size_t>(r) * a.w_row_bytes;
  ActQ8KView x[T];
  __m256 acc[T];
  __m128 macc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    x[t] = ViewActQ8K(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
    acc[t] = _mm256_setzero_ps();
    macc[t] = _mm_setzero_ps();
  }
  Q45Block u;
  for (int b = 0; b < nb; ++b) {
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<kBytes>(a.prefetch_nta, w + b * kBytes);
    UnpackQ45<kFive>(w + b * kBytes, &u);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      __m256i isum;
      __m128i msum;
      DotQ45(u, x[t].qs + 256 * b, x[t].bsums + 16 * b, &isum, &msum);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(u.d * x[t].d[b]), _mm256_cvtepi32_ps(isum), acc[t]);
      macc[t] = _mm_fmadd_ps(_mm_set1_ps(u.dmin * x[t].d[b]), _mm_cvtepi32_ps(msum), macc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) a.y[static_cast<size_t>(t) * a.y_stride + r] = Hsum(acc[t]) - Hsum128(macc[t]);
}

// Q6_K: 8 groups of 32 levels (0..63) with two int8 scales each (one per 16 elements).
struct Q6Block {
  __m256i q[8];
  __m256i scale[8];  // int16: low half = scale of elements 0..15, high half = 16..31
  __m256i sc16;      // the 16 scales as int16 (for the -32 offset term)
  float d;
};

inline void UnpackQ6(const BlockQ6_K* blk, Q6Block* u) {
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = blk->ql + 64 * h;
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qh + 32 * h));
    Q6Levels(l0, l1, qh, u->q + 4 * h);
  }
  u->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->scales)));
  // Group g of half h covers scale indices 8h + 2g (elements 0..15) and 8h + 2g + 1: a
  // byte shuffle of the half's 8 scales (as words, in both lanes) picks word 2g for the
  // low lane and word 2g + 1 for the high one.
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256i sw = _mm256_broadcastsi128_si256(
        _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk->scales + 8 * h))));
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(0x0100 * (4 * g + 3) + 4 * g + 2)),
                                            _mm_set1_epi16(static_cast<int16_t>(0x0100 * (4 * g + 1) + 4 * g)));
      u->scale[4 * h + g] = _mm256_shuffle_epi8(sw, pick);
    }
  }
  u->d = _cvtsh_ss(blk->d);
}

inline __m256i DotQ6(const Q6Block& u, const int8_t* xq, const int16_t* bsums) {
  __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    // q[k]: half k/4, group k%4 -> elements 128*(k/4) + 32*(k%4)
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * k));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u.q[k], x), u.scale[k]));
  }
  const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
  return _mm256_sub_epi32(acc, _mm256_slli_epi32(_mm256_madd_epi16(u.sc16, bs), 5));
}

// Per super-block the 8 lanes' integer sums are added first (exact), then one FMA per
// token: the same float operations as the interleaved and AMX kernels, so every Q6_K
// path gives bitwise the same result whatever the token count.
template <int T>
__attribute__((always_inline)) inline void Q6Row(const MatMulArgs& a, int r) {
  const int nb = a.in_dim / 256;
  const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(a.w + static_cast<size_t>(r) * a.w_row_bytes);
  ActQ8KView x[T];
  float acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    x[t] = ViewActQ8K(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
    acc[t] = 0.0f;
  }
  Q6Block u;
  for (int b = 0; b < nb; ++b) {
    if constexpr (T <= kPrefetchTokens)
      PrefetchAhead<sizeof(BlockQ6_K)>(a.prefetch_nta, reinterpret_cast<const uint8_t*>(w + b));
    UnpackQ6(w + b, &u);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const int isum = HsumI32(DotQ6(u, x[t].qs + 256 * b, x[t].bsums + 16 * b));
      acc[t] = std::fma(static_cast<float>(isum), u.d * x[t].d[b], acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) a.y[static_cast<size_t>(t) * a.y_stride + r] = acc[t];
}

template <int T>
struct Q4KRow {
  static void Run(const MatMulArgs& a, int r) { Q45Row<false, T>(a, r); }
};
template <int T>
struct Q5KRow {
  static void Run(const MatMulArgs& a, int r) { Q45Row<true, T>(a, r); }
};
template <int T>
struct Q6KRow {
  static void Run(const MatMulArgs& a, int r) { Q6Row<T>(a, r); }
};

// Every row on its own, rows outermost (a row is read from memory once and serves every
// token from cache); tokens in tiles of 4, then single tokens.
template <template <int> class Row>
void KMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  const int full = a.n_tokens / 4 * 4;
  MatMulArgs sub = a;
  for (int r = row_begin; r < row_end; ++r) {
    for (int t = 0; t < a.n_tokens; t += t < full ? 4 : 1) {
      sub.x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
      sub.y = a.y + static_cast<size_t>(t) * a.y_stride;
      if (t < full) {
        Row<4>::Run(sub, r);
      } else {
        Row<1>::Run(sub, r);
      }
    }
  }
}

}  // namespace
}  // namespace omnicoder
