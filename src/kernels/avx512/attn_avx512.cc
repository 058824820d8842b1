// AVX-512 attention kernels (scores, values): K/V rows converted to f32 once per tile of
// 8 positions and shared by every query of the call.
//
// Bit rules (kernel_table.h): a query's score at a position is the same sequence of
// fused multiply-adds and one fixed reduction tree whatever the tile or lane; a query's
// output element is one fused multiply-add per position, in position order, whatever
// the other queries, the tile or the run boundaries.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/x86/attn_impl.h"

namespace omnicoder {
namespace {

inline __m512 LoadF32x16(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}

// Rows [p0, p0 + 8) of a head as f32 rows `stride` floats apart: F32 rows of a full tile
// in place, otherwise converted (F16) or copied into `tile` (rows past n_pos zero). A
// head's rows are contiguous in the cache (kv_cache.h), so the hardware prefetcher
// streams them (software prefetch measured no better).
template <class L>
inline const float* TileRows16(const uint8_t* base, const AttnArgs& a, int p0, float* tile, size_t* stride) {
  const int hd = a.head_dim, np = std::min(8, a.n_pos - p0);
  const size_t row_bytes = a.kv_row_bytes;
  if (L::kElem == 4 && np == 8) {
    *stride = row_bytes / 4;
    return reinterpret_cast<const float*>(base + static_cast<size_t>(p0) * row_bytes);
  }
  *stride = static_cast<size_t>(hd);
  for (int i = 0; i < 8; ++i) {
    float* dst = tile + static_cast<size_t>(i) * hd;
    if (i >= np) {
      std::memset(dst, 0, sizeof(float) * hd);
      continue;
    }
    const uint8_t* src = base + static_cast<size_t>(p0 + i) * row_bytes;
    int d = 0;
    for (; d + 16 <= hd; d += 16) {
      if constexpr (L::kElem == 4) {
        _mm512_storeu_ps(dst + d, _mm512_loadu_ps(reinterpret_cast<const float*>(src) + d));
      } else {
        _mm512_storeu_ps(dst + d, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * d))));
      }
    }
    if (d < hd) _mm256_storeu_ps(dst + d, L::Load(src + d * L::kElem));
  }
  return tile;
}

// Lane i of the result = the 16 lanes of acc[i] summed by one fixed tree.
inline __m256 Hsum16x8(const __m512* acc) {
  __m256 half[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    half[i] = _mm256_add_ps(_mm512_castps512_ps256(acc[i]),
                            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i]), 1)));
  }
  return Hsum8x8(half);
}

// Scores of one query against 8 rows (`stride` floats apart); with kTail the last 8
// floats of the head dim are read through a mask (hd % 16 == 8).
template <bool kTail>
__attribute__((always_inline)) inline __m256 ScoreTile(const float* q, const float* rows, size_t stride, int hd) {
  __m512 acc[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) acc[i] = _mm512_setzero_ps();
  const int full = hd / 16 * 16;
  for (int d = 0; d < full; d += 16) {
    const __m512 qv = _mm512_loadu_ps(q + d);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(rows + i * stride + d), acc[i]);
  }
  if constexpr (kTail) {
    const __m512 qv = LoadF32x16(q + full, 0x00FF);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_fmadd_ps(qv, LoadF32x16(rows + i * stride + full, 0x00FF), acc[i]);
  }
  return Hsum16x8(acc);
}

template <class L>
void AttnScores512T(const AttnArgs& a, float* scores) {
  if (ScoresUntiled<L>(a, scores)) return;
  const int hd = a.head_dim;
  alignas(64) float tile[8 * kAttnTileDim];
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (int p0 = 0; p0 < a.n_pos; p0 += 8) {
    const int np = std::min(8, a.n_pos - p0);
    size_t stride = 0;
    const float* rows = TileRows16<L>(a.k, a, p0, tile, &stride);
    for (int g = 0; g < a.n_q; ++g) {
      const float* q = a.q + g * a.q_stride;
      const __m256 dots = hd % 16 ? ScoreTile<true>(q, rows, stride, hd) : ScoreTile<false>(q, rows, stride, hd);
      const __m256 s = _mm256_mul_ps(dots, scale);
      float* out = scores + g * a.scores_stride + p0;
      if (np == 8) {
        _mm256_storeu_ps(out, s);
      } else {
        _mm256_mask_storeu_ps(out, static_cast<__mmask8>((1u << np) - 1), s);
      }
    }
  }
}

struct TileView {
  const float* at;
  size_t stride;
};

// NQ queries x NV registers of 16 outputs: NQ * NV = 8 independent FMA chains (enough to
// cover the FMA latency), each still one position after another.
template <int NQ, int NV>
inline void ValuesBlock(TileView rows, int np, const float* const* probs, float* const* out, int d0, int hd) {
  __m512 acc[NQ][NV];
  __mmask16 m[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const int d = d0 + 16 * j;
    m[j] = d + 16 <= hd ? 0xFFFF : d < hd ? static_cast<__mmask16>((1u << (hd - d)) - 1) : 0;
  }
#pragma GCC unroll 8
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[g][j] = _mm512_maskz_loadu_ps(m[j], out[g] + d0 + 16 * j);
  }
  for (int i = 0; i < np; ++i) {
#pragma GCC unroll 8
    for (int g = 0; g < NQ; ++g) {
      const __m512 pv = _mm512_set1_ps(probs[g][i]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        acc[g][j] =
            _mm512_fmadd_ps(pv, _mm512_maskz_loadu_ps(m[j], rows.at + i * rows.stride + d0 + 16 * j), acc[g][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) _mm512_mask_storeu_ps(out[g] + d0 + 16 * j, m[j], acc[g][j]);
  }
}

template <class L>
void AttnValues512T(const AttnArgs& a, const float* probs, float* out) {
  if (ValuesUntiled<L>(a, probs, out)) return;
  const int hd = a.head_dim;
  alignas(64) float tile[8 * kAttnTileDim];
  for (int p0 = 0; p0 < a.n_pos; p0 += 8) {
    const int np = std::min(8, a.n_pos - p0);
    size_t stride = 0;
    const float* rows = TileRows16<L>(a.v, a, p0, tile, &stride);
    int g = 0;
    for (; g + 2 <= a.n_q; g += 2) {
      const float* pr[2] = {probs + g * a.scores_stride + p0, probs + (g + 1) * a.scores_stride + p0};
      float* o[2] = {out + g * a.out_stride, out + (g + 1) * a.out_stride};
      for (int d0 = 0; d0 < hd; d0 += 64) ValuesBlock<2, 4>({rows, stride}, np, pr, o, d0, hd);
    }
    if (g < a.n_q) {
      const float* pr[1] = {probs + g * a.scores_stride + p0};
      float* o[1] = {out + g * a.out_stride};
      for (int d0 = 0; d0 < hd; d0 += 128) ValuesBlock<1, 8>({rows, stride}, np, pr, o, d0, hd);
    }
  }
}

void AttnScores512(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    AttnScores512T<F16Load>(a, scores);
  } else {
    AttnScores512T<F32Load>(a, scores);
  }
}

void AttnValues512(const AttnArgs& a, const float* probs, float* out) {
  if (a.kv_type == DType::kF16) {
    AttnValues512T<F16Load>(a, probs, out);
  } else {
    AttnValues512T<F32Load>(a, probs, out);
  }
}

}  // namespace

void FillAvx512Attention(KernelTable* t) {
  t->attn_scores = &AttnScores512;
  t->attn_values = &AttnValues512;
}

}  // namespace omnicoder
