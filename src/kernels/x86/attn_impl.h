// x86 attention kernels (kernel_table.h's attn_scores / attn_values) in 256-bit
// registers. Included by avx2/ (the table's entries) and avx512/ (the prefetch and the
// one-position-at-a-time paths its 512-bit kernels fall back to).
#pragma once

#include <algorithm>
#include <cstring>

#include "kernels/attn_groups.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref.h"
#include "kernels/x86/float_load.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

// Scores over row-major K (MLA) go 8 positions at a time: their K rows are converted to
// f32 once into a tile that every query of the call then reads from L1. Scores over
// dim-major K and values read the cache rows into registers directly. Head dims that are
// not a multiple of 8 (row-major scores: or wider than the tile) go one position at a time.
constexpr int kAttnTileDim = 576;  // MLA's latent + rope row

// Positions ahead whose rows are prefetched while a tile is computed: with the hardware
// prefetcher alone the tile conversion waited on K/V (kernels_bench Attn/*, Zen 4).
constexpr int kPrefetchRows = 64;

// Rows [from, to) of a head (clipped to n_pos) into L1. Always inlined: GCC deletes a
// call of a function whose only effect is prefetching.
__attribute__((always_inline)) inline void PrefetchRows(const uint8_t* base, const AttnArgs& a, int from, int to) {
  const int stop = std::min(to, a.n_pos);
  if (from >= stop) return;  // no address past the rows is formed
  const uint8_t* p = base + static_cast<size_t>(from) * a.kv_row_bytes;
  const uint8_t* end = base + static_cast<size_t>(stop) * a.kv_row_bytes;
  for (; p < end; p += 64) _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
}

// Lane i of the result = Hsum(acc[i]): the same additions in the same order, so a
// position's score does not depend on which lane (or tile) it was computed in.
inline __m256 Hsum8x8(const __m256* acc) {
  __m256 x[4];
  for (int i = 0; i < 4; ++i) {
    const __m256 a = acc[2 * i], b = acc[2 * i + 1];
    x[i] = _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
  }
  const __m256 y0 = _mm256_add_ps(_mm256_shuffle_ps(x[0], x[1], 0x44), _mm256_shuffle_ps(x[0], x[1], 0xEE));
  const __m256 y1 = _mm256_add_ps(_mm256_shuffle_ps(x[2], x[3], 0x44), _mm256_shuffle_ps(x[2], x[3], 0xEE));
  const __m256 z = _mm256_add_ps(_mm256_shuffle_ps(y0, y1, 0x88), _mm256_shuffle_ps(y0, y1, 0xDD));
  return _mm256_permutevar8x32_ps(z, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

template <class L>
void ScoresOneByOne(const AttnArgs& a, const float* q, float* scores) {
  const int hd = a.head_dim, h8 = hd / 8 * 8;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* k = a.k + static_cast<size_t>(p) * a.kv_row_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int d = 0; d < h8; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), L::Load(k + d * L::kElem), acc);
    float s = Hsum(acc);
    for (int d = h8; d < hd; ++d) s += q[d] * L::One(k + d * L::kElem);
    scores[p] = s * a.scale;
  }
}

// Head dims the tiles do not cover (not a multiple of 8, wider than the tile) go one
// position at a time; true when done that way.
template <class L>
inline bool ScoresUntiled(const AttnArgs& a, float* scores) {
  if (a.head_dim % 8 == 0 && a.head_dim <= kAttnTileDim) return false;
  for (int g = 0; g < a.n_q; ++g) ScoresOneByOne<L>(a, a.q + g * a.q_stride, scores + g * a.scores_stride);
  return true;
}

// Rows [p0, p0 + 8) as f32 in chunk-major order: chunk c (head dims 8c .. 8c + 7) of row i
// at tile + 64 c + 8 i, a chunk's rows one pointer plus constant offsets (8 row pointers
// would not fit the general registers beside the loop's). Rows past n_pos are zeros.
template <class L>
inline void ScoreChunks8(const uint8_t* base, const AttnArgs& a, int p0, float* tile) {
  const int hd = a.head_dim, np = std::min(8, a.n_pos - p0);
  for (int i = 0; i < 8; ++i) {
    float* dst = tile + 8 * i;
    if (i >= np) {
      for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + 8 * d, _mm256_setzero_ps());
      continue;
    }
    const uint8_t* src = base + static_cast<size_t>(p0 + i) * a.kv_row_bytes;
    for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + 8 * d, L::Load(src + d * L::kElem));
  }
}

// Per position 8 lanes of fused multiply-adds over the head dim, then Hsum8x8.
template <class L>
void AttnScoresT(const AttnArgs& a, float* scores) {
  if (ScoresUntiled<L>(a, scores)) return;
  const int hd = a.head_dim;
  alignas(32) float tile[8 * kAttnTileDim];
  const __m256 scale = _mm256_set1_ps(a.scale);
  for (int p0 = 0; p0 < a.n_pos; p0 += 8) {
    const int np = std::min(8, a.n_pos - p0);
    ScoreChunks8<L>(a.k, a, p0, tile);
    PrefetchRows(a.k, a, p0 + kPrefetchRows, p0 + kPrefetchRows + 8);
    for (int g = 0; g < a.n_q; ++g) {
      const float* q = a.q + g * a.q_stride;
      __m256 acc[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
      const float* chunk = tile;
      for (int d = 0; d < hd; d += 8, chunk += 64) {
        const __m256 qv = _mm256_loadu_ps(q + d);
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(qv, _mm256_load_ps(chunk + 8 * i), acc[i]);
      }
      const __m256 s = _mm256_mul_ps(Hsum8x8(acc), scale);
      float* out = scores + g * a.scores_stride + p0;
      if (np == 8) {
        _mm256_storeu_ps(out, s);
      } else {
        alignas(32) float t[8];
        _mm256_store_ps(t, s);
        std::memcpy(out, t, sizeof(float) * np);
      }
    }
  }
}

// Scores over dim-major K (attn_scores_kt): NQ queries x NV registers of 8 positions; each
// lane is one position's chain of fused multiply-adds in dim order, then the scale (the
// reference's bits whatever the tile, lane or query count). Reads 8 * NV positions from k.
// Dim-major K of a tile: dim d of its positions at k + d * dim_bytes.
struct KtRows {
  const uint8_t* k;
  size_t dim_bytes;
  int hd;
};

template <class L, int NQ, int NV>
inline void ScoresKtTile(KtRows rows, const float* const* q, float* const* out, int np, __m256 scale) {
  __m256 acc[NQ][NV];
#pragma GCC unroll 4
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[g][j] = _mm256_setzero_ps();
  }
  const uint8_t* k = rows.k;
  for (int d = 0; d < rows.hd; ++d, k += rows.dim_bytes) {
    __m256 kv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) kv[j] = L::Load(k + 8 * j * L::kElem);
#pragma GCC unroll 4
    for (int g = 0; g < NQ; ++g) {
      const __m256 qb = _mm256_broadcast_ss(q[g] + d);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[g][j] = _mm256_fmadd_ps(qb, kv[j], acc[g][j]);
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __m256 s = _mm256_mul_ps(acc[g][j], scale);
      if (np >= 8 * (j + 1)) {
        _mm256_storeu_ps(out[g] + 8 * j, s);
      } else if (np > 8 * j) {
        alignas(32) float t[8];
        _mm256_store_ps(t, s);
        std::memcpy(out[g] + 8 * j, t, sizeof(float) * (np - 8 * j));
      }
    }
  }
}

// NQ queries over all positions: tiles of 8 * NV, then of 8, then the last < 8 positions
// copied into a zero-padded tile (nothing past the call's positions is read).
template <class L, int NQ, int NV>
inline void ScoresKtQueries(const AttnArgs& a, const float* const* q, float* const* scores, __m256 scale) {
  const int hd = a.head_dim, n = a.n_pos;
  const size_t db = a.k_dim_bytes;
  float* out[NQ];
  int p = 0;
  const auto at = [&](int p0) {
    for (int g = 0; g < NQ; ++g) out[g] = scores[g] + p0;
    return a.k + static_cast<size_t>(p0) * L::kElem;
  };
  for (; p + 8 * NV <= n; p += 8 * NV) ScoresKtTile<L, NQ, NV>({at(p), db, hd}, q, out, 8 * NV, scale);
  for (; p + 8 <= n; p += 8) ScoresKtTile<L, NQ, 1>({at(p), db, hd}, q, out, 8, scale);
  if (p == n) return;
  alignas(32) uint8_t tail[8 * 4 * kAttnTileDim];
  std::memset(tail, 0, static_cast<size_t>(hd) * 8 * L::kElem);
  const uint8_t* src = at(p);
  for (int d = 0; d < hd; ++d) std::memcpy(tail + d * 8 * L::kElem, src + d * db, (n - p) * L::kElem);
  ScoresKtTile<L, NQ, 1>({tail, 8 * L::kElem, hd}, q, out, n - p, scale);
}

// Queries 4 at a time (2 registers of positions each), then 2 and 1 (4 registers).
template <class L>
void AttnScoresKtT(const AttnArgs& a, float* scores) {
  if (a.head_dim > kAttnTileDim) {  // wider than the tail tile: the reference's loop
    ref::AttnScoresKt(a, scores);
    return;
  }
  const __m256 scale = _mm256_set1_ps(a.scale);
  ForQueryGroups<4>(a.n_q, a.q, a.q_stride, scores, a.scores_stride,
                    [&](int nq, const float* const* q, float* const* s) {
                      if (nq == 4) {
                        ScoresKtQueries<L, 4, 2>(a, q, s, scale);
                      } else if (nq == 2) {
                        ScoresKtQueries<L, 2, 4>(a, q, s, scale);
                      } else {
                        ScoresKtQueries<L, 1, 4>(a, q, s, scale);
                      }
                    });
}

template <class L>
void ValuesOneByOne(const AttnArgs& a, const float* probs, float* out) {
  const int hd = a.head_dim, h8 = hd / 8 * 8;
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* v = a.v + static_cast<size_t>(p) * a.kv_row_bytes;
    const __m256 pv = _mm256_set1_ps(probs[p]);
    for (int d = 0; d < h8; d += 8) {
      _mm256_storeu_ps(out + d, _mm256_fmadd_ps(pv, L::Load(v + d * L::kElem), _mm256_loadu_ps(out + d)));
    }
    for (int d = h8; d < hd; ++d) out[d] += probs[p] * L::One(v + d * L::kElem);
  }
}

// Zeroes the outputs unless accumulating; head dims not a multiple of 8 then go one
// position at a time (true when done that way).
template <class L>
inline bool ValuesUntiled(const AttnArgs& a, const float* probs, float* out) {
  if (!a.accumulate) {
    for (int g = 0; g < a.n_q; ++g) std::memset(out + g * a.out_stride, 0, sizeof(float) * a.head_dim);
  }
  if (a.head_dim % 8 == 0) return false;
  for (int g = 0; g < a.n_q; ++g) ValuesOneByOne<L>(a, probs + g * a.scores_stride, out + g * a.out_stride);
  return true;
}

// Values straight from the cache rows: NQ queries x NV registers of 8 outputs (head dims
// d0 .. d0 + 8 NV) over all the call's positions, each output element one fused
// multiply-add per position in position order; a row is converted once per NQ queries.
template <class L, int NQ, int NV>
inline void ValuesRowsT(const AttnArgs& a, const float* const* probs, float* const* out, int d0) {
  __m256 acc[NQ][NV];
#pragma GCC unroll 4
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[g][j] = _mm256_loadu_ps(out[g] + d0 + 8 * j);
  }
  const uint8_t* row = a.v + static_cast<size_t>(d0) * L::kElem;
  for (int i0 = 0; i0 < a.n_pos; i0 += 16) {
    PrefetchRows(a.v, a, i0 + kPrefetchRows, i0 + kPrefetchRows + 16);
    const int i1 = std::min(a.n_pos, i0 + 16);
    for (int i = i0; i < i1; ++i, row += a.kv_row_bytes) {
      __m256 v[NV];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) v[j] = L::Load(row + 8 * j * L::kElem);
#pragma GCC unroll 4
      for (int g = 0; g < NQ; ++g) {
        const __m256 pv = _mm256_broadcast_ss(probs[g] + i);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[g][j] = _mm256_fmadd_ps(pv, v[j], acc[g][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < NQ; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) _mm256_storeu_ps(out[g] + d0 + 8 * j, acc[g][j]);
  }
}

// NQ queries over every head dim: chunks of 8 NV, the rest 8 at a time.
template <class L, int NQ, int NV>
inline void ValuesQueriesT(const AttnArgs& a, const float* const* probs, float* const* out) {
  int d0 = 0;
  for (; d0 + 8 * NV <= a.head_dim; d0 += 8 * NV) ValuesRowsT<L, NQ, NV>(a, probs, out, d0);
  for (; d0 < a.head_dim; d0 += 8) ValuesRowsT<L, NQ, 1>(a, probs, out, d0);
}

// Queries 4 at a time over 24 head dims (12 accumulators), then 2 and 1 over 32.
template <class L>
void AttnValuesT(const AttnArgs& a, const float* probs, float* out) {
  if (ValuesUntiled<L>(a, probs, out)) return;
  ForQueryGroups<4>(a.n_q, probs, a.scores_stride, out, a.out_stride,
                    [&](int nq, const float* const* pr, float* const* o) {
                      if (nq == 4) {
                        ValuesQueriesT<L, 4, 3>(a, pr, o);
                      } else if (nq == 2) {
                        ValuesQueriesT<L, 2, 4>(a, pr, o);
                      } else {
                        ValuesQueriesT<L, 1, 4>(a, pr, o);
                      }
                    });
}

inline void AttnScoresX86(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    AttnScoresT<F16Load>(a, scores);
  } else {
    AttnScoresT<F32Load>(a, scores);
  }
}

inline void AttnScoresKtX86(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    AttnScoresKtT<F16Load>(a, scores);
  } else {
    AttnScoresKtT<F32Load>(a, scores);
  }
}

inline void AttnValuesX86(const AttnArgs& a, const float* probs, float* out) {
  if (a.kv_type == DType::kF16) {
    AttnValuesT<F16Load>(a, probs, out);
  } else {
    AttnValuesT<F32Load>(a, probs, out);
  }
}

}  // namespace
}  // namespace omnicoder
