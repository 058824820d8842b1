// AVX-512 attention kernels. Scores over row-major K (MLA's latent rows): the rows
// converted to f32 once per tile of 16 positions, shared by every query of the call.
// Scores over dim-major K (the cache's layout for GQA heads) need no tile: one head dim
// of 16 positions is one register, multiplied by the query's broadcast element. Values:
// each V row converted in registers once per 4 queries. Rows 64 positions ahead are
// prefetched.
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

// Rows [p0, p0 + 16) of a head as f32 in chunk-major order: chunk c (head dims 16c ..
// 16c + 15) of row i at tile + 256 c + 16 i, so a chunk's 16 rows are one pointer plus
// constant offsets. A last chunk of 8 dims (hd % 16 == 8) and rows past n_pos are zeros.
template <class L>
inline void ScoreChunks(const uint8_t* base, const AttnArgs& a, int p0, float* tile) {
  const int hd = a.head_dim, np = std::min(16, a.n_pos - p0), chunks = (hd + 15) / 16;
  for (int i = 0; i < 16; ++i) {
    float* dst = tile + 16 * i;
    if (i >= np) {
      for (int c = 0; c < chunks; ++c) _mm512_storeu_ps(dst + 256 * c, _mm512_setzero_ps());
      continue;
    }
    const uint8_t* src = base + static_cast<size_t>(p0 + i) * a.kv_row_bytes;
    int c = 0;
    for (; 16 * c + 16 <= hd; ++c) {
      if constexpr (L::kElem == 4) {
        _mm512_storeu_ps(dst + 256 * c, _mm512_loadu_ps(reinterpret_cast<const float*>(src) + 16 * c));
      } else {
        _mm512_storeu_ps(dst + 256 * c,
                         _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32 * c))));
      }
    }
    if (c < chunks) {
      _mm512_storeu_ps(dst + 256 * c, _mm512_castps256_ps512(_mm256_setzero_ps()));
      _mm256_storeu_ps(dst + 256 * c, L::Load(src + 16 * c * L::kElem));
    }
  }
}

// Lane p of the result = the 16 lanes of acc[p] summed by one tree, the same additions
// for every p: lanes j, j + 4, j + 8, j + 12 as (l_j + l_j+8) + (l_j+4 + l_j+12), then those
// four as (f0 + f2) + (f1 + f3). 45 shuffles and adds in registers for 16 positions.
inline __m512 Hsum16x16(const __m512* acc) {
  __m512 b[8], c[4], d[2];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {  // b[i]: 128-bit lanes 0-1 position i, 2-3 position i + 8
    b[i] =
        _mm512_add_ps(_mm512_shuffle_f32x4(acc[i], acc[i + 8], 0x44), _mm512_shuffle_f32x4(acc[i], acc[i + 8], 0xEE));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // c[i]: lanes hold positions i, i + 8, i + 4, i + 12
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[i], b[i + 4], 0x88), _mm512_shuffle_f32x4(b[i], b[i + 4], 0xDD));
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {  // d[i]: two floats each of c[i]'s and c[i + 2]'s positions
    d[i] = _mm512_add_ps(_mm512_shuffle_ps(c[i], c[i + 2], 0x44), _mm512_shuffle_ps(c[i], c[i + 2], 0xEE));
  }
  // Positions 0 2 1 3 | 8 10 9 11 | 4 6 5 7 | 12 14 13 15, then into order.
  const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15), e);
}

// Scores of one query against a tile of 16 rows (ScoreChunks): per row 16 lanes of fused
// multiply-adds over the head dim (a last chunk of 8 dims: the query's other 8 lanes 0).
__attribute__((always_inline)) inline __m512 ScoreTile(const float* q, const float* tile, int hd) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_setzero_ps();
  for (int d = 0; d < hd; d += 16, tile += 256) {
    const __m512 qv = LoadF32x16(q + d, d + 16 <= hd ? 0xFFFF : 0x00FF);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(qv, _mm512_load_ps(tile + 16 * i), acc[i]);
  }
  return Hsum16x16(acc);
}

template <class L>
void AttnScores512T(const AttnArgs& a, float* scores) {
  if (ScoresUntiled<L>(a, scores)) return;
  const int hd = a.head_dim;
  alignas(64) float tile[16 * kAttnTileDim];  // 36 KiB for MLA's 576
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int p0 = 0; p0 < a.n_pos; p0 += 16) {
    const int np = std::min(16, a.n_pos - p0);
    const __mmask16 keep = static_cast<__mmask16>((1u << np) - 1);
    ScoreChunks<L>(a.k, a, p0, tile);
    PrefetchRows(a.k, a, p0 + kPrefetchRows, p0 + kPrefetchRows + 16);
    for (int g = 0; g < a.n_q; ++g) {
      const float* q = a.q + g * a.q_stride;
      _mm512_mask_storeu_ps(scores + g * a.scores_stride + p0, keep, _mm512_mul_ps(ScoreTile(q, tile, hd), scale));
    }
  }
}

// 16 consecutive F16 / F32 values as f32; lanes outside `m` are not read (and are 0).
template <class L>
inline __m512 Load16AsF32(const uint8_t* p, __mmask16 m) {
  if constexpr (L::kElem == 4) {
    return _mm512_maskz_loadu_ps(m, p);
  } else {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
}

// Scores over dim-major K (attn_scores_kt): NQ queries x NV registers of 16 positions,
// np <= 16 * NV of them; each lane one position's chain of fused multiply-adds in dim order,
// then the scale (the reference's bits whatever the tile, lane or query count).
template <class L, int NQ, int NV>
inline void ScoresKtTile16(const AttnArgs& a, const float* const* q, float* const* out, int p0, int np, __m512 scale) {
  __m512 acc[NQ][NV];
  __mmask16 m[NV];
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) {
    const int left = np - 16 * j;
    m[j] = left >= 16 ? 0xFFFF : left > 0 ? static_cast<__mmask16>((1u << left) - 1) : 0;
  }
#pragma GCC unroll 8
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[g][j] = _mm512_setzero_ps();
  }
  const uint8_t* k = a.k + static_cast<size_t>(p0) * L::kElem;
  for (int d = 0; d < a.head_dim; ++d, k += a.k_dim_bytes) {
    __m512 kv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) kv[j] = Load16AsF32<L>(k + 16 * j * L::kElem, m[j]);
#pragma GCC unroll 8
    for (int g = 0; g < NQ; ++g) {
      const __m512 qb = _mm512_set1_ps(q[g][d]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[g][j] = _mm512_fmadd_ps(qb, kv[j], acc[g][j]);
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) _mm512_mask_storeu_ps(out[g] + p0 + 16 * j, m[j], _mm512_mul_ps(acc[g][j], scale));
  }
}

template <class L, int NQ, int NV>
inline void ScoresKtQueries16(const AttnArgs& a, const float* const* q, float* const* out, __m512 scale) {
  for (int p0 = 0; p0 < a.n_pos; p0 += 16 * NV) {
    ScoresKtTile16<L, NQ, NV>(a, q, out, p0, std::min(16 * NV, a.n_pos - p0), scale);
  }
}

// Queries 8 at a time (2 registers of positions each: 16 accumulators), then 4, 2, 1
// (4 registers: a whole 64-position block).
template <class L>
void AttnScoresKt512T(const AttnArgs& a, float* scores) {
  const __m512 scale = _mm512_set1_ps(a.scale);
  ForQueryGroups<8>(a.n_q, a.q, a.q_stride, scores, a.scores_stride,
                    [&](int nq, const float* const* q, float* const* s) {
                      switch (nq) {
                        case 8:
                          ScoresKtQueries16<L, 8, 2>(a, q, s, scale);
                          break;
                        case 4:
                          ScoresKtQueries16<L, 4, 4>(a, q, s, scale);
                          break;
                        case 2:
                          ScoresKtQueries16<L, 2, 4>(a, q, s, scale);
                          break;
                        default:
                          ScoresKtQueries16<L, 1, 4>(a, q, s, scale);
                      }
                    });
}

// Values straight from the cache rows (no f32 tile): NQ queries x NV registers of 16
// outputs over all the call's positions, each output one fused multiply-add per position
// in position order; a row is converted once per NQ queries, in registers.
template <class L, int NQ, int NV>
inline void ValuesRows(const AttnArgs& a, const float* const* probs, float* const* out, int d0) {
  const int hd = a.head_dim;
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
  const uint8_t* row = a.v + static_cast<size_t>(d0) * L::kElem;
  for (int i0 = 0; i0 < a.n_pos; i0 += 16) {
    PrefetchRows(a.v, a, i0 + kPrefetchRows, i0 + kPrefetchRows + 16);
    const int i1 = std::min(a.n_pos, i0 + 16);
    for (int i = i0; i < i1; ++i, row += a.kv_row_bytes) {
      __m512 v[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) v[j] = Load16AsF32<L>(row + 16 * j * L::kElem, m[j]);
#pragma GCC unroll 8
      for (int g = 0; g < NQ; ++g) {
        const __m512 pv = _mm512_set1_ps(probs[g][i]);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[g][j] = _mm512_fmadd_ps(pv, v[j], acc[g][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) _mm512_mask_storeu_ps(out[g] + d0 + 16 * j, m[j], acc[g][j]);
  }
}

// Queries 4 at a time (16 accumulators of 64 head dims), then 2, then 1.
template <class L>
void ValuesDirect(const AttnArgs& a, const float* probs, float* out) {
  ForQueryGroups<4>(a.n_q, probs, a.scores_stride, out, a.out_stride,
                    [&](int nq, const float* const* pr, float* const* o) {
                      for (int d0 = 0; d0 < a.head_dim; d0 += 64) {
                        if (nq == 4) {
                          ValuesRows<L, 4, 4>(a, pr, o, d0);
                        } else if (nq == 2) {
                          ValuesRows<L, 2, 4>(a, pr, o, d0);
                        } else {
                          ValuesRows<L, 1, 4>(a, pr, o, d0);
                        }
                      }
                    });
}

template <class L>
void AttnValues512T(const AttnArgs& a, const float* probs, float* out) {
  if (!a.accumulate) {
    for (int g = 0; g < a.n_q; ++g) std::memset(out + g * a.out_stride, 0, sizeof(float) * a.head_dim);
  }
  ValuesDirect<L>(a, probs, out);
}

void AttnScores512(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    AttnScores512T<F16Load>(a, scores);
  } else {
    AttnScores512T<F32Load>(a, scores);
  }
}

void AttnScoresKt512(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    AttnScoresKt512T<F16Load>(a, scores);
  } else {
    AttnScoresKt512T<F32Load>(a, scores);
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
  t->attn_scores_kt = &AttnScoresKt512;
  t->attn_values = &AttnValues512;
}

}  // namespace omnicoder
