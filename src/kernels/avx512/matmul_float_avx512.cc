// AVX-512 matmul of F32, F16 and BF16 weights with activations of the same type (the
// AVX2 kernel's formats): 16 lanes, tiles of 6 rows x 4 tokens. With 32 registers the
// tile holds 24 accumulators, so each converted weight vector serves 4 tokens and each
// converted activation vector 6 rows (the AVX2 tile, 4 x 2 in 16 registers, converts
// 6 vectors per 8 products; this one 10 per 24; 4 x 4 measured ~15 % slower).
//
// Every (row, token) pair gets the same fused multiply-adds in the same order (16-lane
// partial sums over the 16-element steps, then one 8-lane step if 8 remain, one fixed
// reduction tree, then the last elements one by one), whatever the tile, the row range
// or the token count: decode and prefill give the same bits.
#include <immintrin.h>

#include "kernels/kernel_table.h"
#include "kernels/x86/float_load.h"

namespace omnicoder {
namespace {

// The 8-wide loaders (Load: 8 floats, One) with a 16-wide Load16.
struct F32Load16 : F32Load {
  static __m512 Load16(const uint8_t* p) { return _mm512_loadu_ps(p); }
};
struct F16Load16 : F16Load {
  static __m512 Load16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};
struct Bf16Load16 : Bf16Load {
  static __m512 Load16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
  }
};

// The 16 lanes summed by one fixed tree: halves, then quarters, pairs, neighbours.
inline float Sum16(__m512 v) {
  const __m256 hi = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xEE));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// R rows x T tokens over the whole input; see the file comment for the per-pair order.
template <class L, int R, int T>
inline void Tile16(const MatMulArgs& a, int r0, int t0) {
  const int n = a.in_dim, n16 = n / 16 * 16;
  const uint8_t* w[R];
  const uint8_t* x[T];
  __m512 acc[R][T];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    w[r] = a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
  for (int i = 0; i < n16; i += 16) {
    __m512 xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = L::Load16(x[t] + i * L::kElem);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m512 wv = L::Load16(w[r] + i * L::kElem);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  const bool half = n - n16 >= 8;
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      __m512 v = acc[r][t];
      if (half) {
        // The last 8-element step goes into the low 8 lanes.
        const __m256 p =
            _mm256_fmadd_ps(L::Load(w[r] + n16 * L::kElem), L::Load(x[t] + n16 * L::kElem), _mm512_castps512_ps256(v));
        v = _mm512_insertf32x8(v, p, 0);
      }
      float s = Sum16(v);
      for (int i = n16 + (half ? 8 : 0); i < n; ++i) s += L::One(w[r] + i * L::kElem) * L::One(x[t] + i * L::kElem);
      a.y[static_cast<size_t>(t0 + t) * a.y_stride + r0 + r] = s;
    }
  }
}

template <class L, int R>
inline void RowsAllTokens(const MatMulArgs& a, int r) {
  int t = 0;
  for (; t + 4 <= a.n_tokens; t += 4) Tile16<L, R, 4>(a, r, t);
  switch (a.n_tokens - t) {
    case 3:
      Tile16<L, R, 3>(a, r, t);
      break;
    case 2:
      Tile16<L, R, 2>(a, r, t);
      break;
    case 1:
      Tile16<L, R, 1>(a, r, t);
      break;
    default:
      break;
  }
}

// Rows in sixes (then fours, ones) outermost: their weights stay in cache for every
// token; tokens in fours.
template <class L>
void FloatMatMul512(const MatMulArgs& a, int row_begin, int row_end) {
  int r = row_begin;
  for (; r + 6 <= row_end; r += 6) RowsAllTokens<L, 6>(a, r);
  for (; r + 4 <= row_end; r += 4) RowsAllTokens<L, 4>(a, r);
  for (; r < row_end; ++r) RowsAllTokens<L, 1>(a, r);
}

}  // namespace

void FillAvx512FloatMatMul(KernelTable* t) {
  t->matmul[static_cast<uint32_t>(DType::kF32)].matmul = &FloatMatMul512<F32Load16>;
  t->matmul[static_cast<uint32_t>(DType::kF16)].matmul = &FloatMatMul512<F16Load16>;
  t->matmul[static_cast<uint32_t>(DType::kBF16)].matmul = &FloatMatMul512<Bf16Load16>;
}

}  // namespace omnicoder
