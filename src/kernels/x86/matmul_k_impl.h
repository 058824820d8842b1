// x86 matmul of the K super-block formats (Q4_K, Q5_K, Q6_K) with kQ8K activations.
// Included by avx2/ and avx512/. Same tiling contract as matmul_q8_impl.h: every
// (row, token) pair runs the same instruction sequence in any tile shape.
//
// Per 256-block the integer sum is exact: scales multiply 16-bit pair sums (madd), mins
// and the Q6_K offset (-32) are applied through the activation's 16-element sums.
#pragma once

#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

namespace omnicoder {
namespace {

// Unpacked per-block scales: 8 (scale, min) pairs as int16 for Q4_K/Q5_K.
inline void KScales(const uint8_t* q, int16_t* sc, int16_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = q[j] & 63;
    mn[j] = q[j + 4] & 63;
    sc[j + 4] = static_cast<int16_t>((q[j + 8] & 0xF) | ((q[j] >> 6) << 4));
    mn[j + 4] = static_cast<int16_t>((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
  }
}

// sum_j scale_j * dot(q_j, x_j) over 8 sub-blocks of 32 (4-bit, or 5-bit with qh).
template <bool kFive>
inline __m256i Q45Dot(const uint8_t* qs, const uint8_t* qh, const int16_t* sc, const int8_t* xq) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256i acc = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
    __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    if constexpr (kFive) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i one = _mm256_set1_epi8(1);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c), one), 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c + 1), one), 4));
    }
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * c));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * c + 32));
    const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), _mm256_set1_epi16(sc[2 * c]));
    const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), _mm256_set1_epi16(sc[2 * c + 1]));
    acc = _mm256_add_epi32(acc, _mm256_add_epi32(p0, p1));
  }
  return acc;
}

// sum_j min_j * (bsum_{2j} + bsum_{2j+1}) as 4 int32 lanes.
inline __m128i MinDot(const int16_t* mn, const int16_t* bsums) {
  const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums));
  const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8));
  return _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mn)), _mm_hadd_epi16(b0, b1));
}

template <bool kFive, int R, int T>
inline void Q45Tile(const MatMulArgs& a, int r0) {
  constexpr size_t kBytes = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const int nb = a.in_dim / 256;
  ActQ8KView x[T];
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8K(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
  __m256 acc[R][T];
  __m128 macc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps(), macc[r][t] = _mm_setzero_ps();
  }
  for (int b = 0; b < nb; ++b) {
    for (int r = 0; r < R; ++r) {
      const uint8_t* blk = a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes + b * kBytes;
      alignas(16) int16_t sc[8], mn[8];
      KScales(blk + 4, sc, mn);
      const float d = HalfToFloat(blk), dmin = HalfToFloat(blk + 2);
      const uint8_t* qh = kFive ? blk + 16 : nullptr;
      const uint8_t* qs = kFive ? blk + 48 : blk + 16;
      for (int t = 0; t < T; ++t) {
        const __m256i isum = Q45Dot<kFive>(qs, qh, sc, x[t].qs + 256 * b);
        const __m128i msum = MinDot(mn, x[t].bsums + 16 * b);
        acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[t].d[b]), _mm256_cvtepi32_ps(isum), acc[r][t]);
        macc[r][t] = _mm_fmadd_ps(_mm_set1_ps(dmin * x[t].d[b]), _mm_cvtepi32_ps(msum), macc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      a.y[static_cast<size_t>(t) * a.y_stride + r0 + r] = Hsum(acc[r][t]) - Hsum128(macc[r][t]);
    }
  }
}

// sum of scale_16 * dot(q6 - 32, x) over the 16 sub-blocks of one Q6_K block.
inline __m256i Q6Dot(const BlockQ6_K* blk, const int8_t* xq, const int16_t* bsums) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
  __m256i acc = _mm256_setzero_si256();
  const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->scales));
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = blk->ql + 64 * h;
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qh + 32 * h));
    const __m256i q[4] = {
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
        _mm256_or_si256(_mm256_and_si256(l1, m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
    };
    for (int g = 0; g < 4; ++g) {
      const int s = 8 * h + 2 * g;  // scales of this group's two 16-element halves
      const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(static_cast<int8_t>(blk->scales[s + 1])),
                                             _mm_set1_epi16(static_cast<int8_t>(blk->scales[s])));
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 128 * h + 32 * g));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], x), scale));
    }
  }
  // - 32 * sum_j scale_j * bsum_j
  const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
  const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
  return _mm256_sub_epi32(acc, _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
}

template <int R, int T>
inline void Q6Tile(const MatMulArgs& a, int r0) {
  const int nb = a.in_dim / 256;
  ActQ8KView x[T];
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8K(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (int b = 0; b < nb; ++b) {
    for (int r = 0; r < R; ++r) {
      const BlockQ6_K* blk =
          reinterpret_cast<const BlockQ6_K*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes) + b;
      const float d = _cvtsh_ss(blk->d);
      for (int t = 0; t < T; ++t) {
        const __m256i isum = Q6Dot(blk, x[t].qs + 256 * b, x[t].bsums + 16 * b);
        acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[t].d[b]), _mm256_cvtepi32_ps(isum), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) a.y[static_cast<size_t>(t) * a.y_stride + r0 + r] = Hsum(acc[r][t]);
  }
}

template <int R, int T>
struct Q4KTile {
  static void Run(const MatMulArgs& a, int r0) { Q45Tile<false, R, T>(a, r0); }
};
template <int R, int T>
struct Q5KTile {
  static void Run(const MatMulArgs& a, int r0) { Q45Tile<true, R, T>(a, r0); }
};
template <int R, int T>
struct Q6KTile {
  static void Run(const MatMulArgs& a, int r0) { Q6Tile<R, T>(a, r0); }
};

// Rows in tiles of 2 (then 1), tokens in tiles of 4 (then 1) — same contract as Q8MatMul.
template <template <int, int> class Tile>
void KMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  MatMulArgs sub = a;
  int t = 0;
  auto rows = [&](auto tile_t) {
    constexpr int kT = decltype(tile_t)::value;
    constexpr int kR = kT == 1 ? 4 : 2;
    int r = row_begin;
    for (; r + kR <= row_end; r += kR) Tile<kR, kT>::Run(sub, r);
    for (; r < row_end; ++r) Tile<1, kT>::Run(sub, r);
  };
  for (; t + 4 <= a.n_tokens; t += 4) {
    sub.x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
    sub.y = a.y + static_cast<size_t>(t) * a.y_stride;
    rows(std::integral_constant<int, 4>{});
  }
  for (; t < a.n_tokens; ++t) {
    sub.x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
    sub.y = a.y + static_cast<size_t>(t) * a.y_stride;
    rows(std::integral_constant<int, 1>{});
  }
}

}  // namespace
}  // namespace omnicoder
