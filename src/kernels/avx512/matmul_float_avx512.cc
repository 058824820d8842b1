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

#include <type_traits>

#include "kernels/kernel_table.h"
#include "kernels/x86/float_load.h"
#include "kernels/x86/float_tile.h"

namespace omnicoder {
namespace {

// The 16 lanes summed by one fixed tree: halves, then quarters, pairs, neighbours.
inline float Sum16(__m512 v) {
  const __m256 hi = _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xEE));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// 16 lanes of f32 from loader L (float_load.h, whose 8-lane Load serves the 8-element
// step); Finish: that step into the low lanes if 8 elements remain, Sum16, then the last
// elements one by one.
template <class L>
struct Lanes16 {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  static constexpr size_t kElem = L::kElem;
  static Vec Zero() { return _mm512_setzero_ps(); }
  static Vec Load(const uint8_t* p) {
    if constexpr (L::kElem == 4) {
      return _mm512_loadu_ps(p);
    } else if constexpr (std::is_same_v<L, F16Load>) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    } else {
      const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    }
  }
  static Vec Fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static float Finish(Vec acc, const uint8_t* w, const uint8_t* x, int from, int n) {
    if (n - from >= 8) {
      const __m256 p =
          _mm256_fmadd_ps(L::Load(w + from * kElem), L::Load(x + from * kElem), _mm512_castps512_ps256(acc));
      acc = _mm512_insertf32x8(acc, p, 0);
      from += 8;
    }
    float s = Sum16(acc);
    for (int i = from; i < n; ++i) s += L::One(w + i * kElem) * L::One(x + i * kElem);
    return s;
  }
};

template <class L, int R>
inline void RowsAllTokens(const MatMulArgs& a, int r) {
  int t = 0;
  for (; t + 4 <= a.n_tokens; t += 4) FloatTile<Lanes16<L>, R, 4>(a, r, t);
  switch (a.n_tokens - t) {
    case 3:
      FloatTile<Lanes16<L>, R, 3>(a, r, t);
      break;
    case 2:
      FloatTile<Lanes16<L>, R, 2>(a, r, t);
      break;
    case 1:
      FloatTile<Lanes16<L>, R, 1>(a, r, t);
      break;
    default:
      break;
  }
}

// Rows in sixes (then fours, ones) outermost: their weights stay in cache for every
// token; tokens in fours. kRowByRowDecode (DecodeForm kNarrow, kHalves): 1-3 tokens take
// the rows one at a time, one weight stream instead of six (F16 decode, a core: Zen 4 from
// L3 26 vs 20 GB/s, Zen 5 from memory 24-28 vs 20-23), though each row's sum is then one
// chain of dependent FMAs. The same bits either way (FloatTile).
template <class L, bool kRowByRowDecode>
void FloatMatMul512(const MatMulArgs& a, int row_begin, int row_end) {
  int r = row_begin;
  if (kRowByRowDecode && a.n_tokens < 4) {
    for (; r < row_end; ++r) RowsAllTokens<L, 1>(a, r);
    return;
  }
  for (; r + 6 <= row_end; r += 6) RowsAllTokens<L, 6>(a, r);
  for (; r + 4 <= row_end; r += 4) RowsAllTokens<L, 4>(a, r);
  for (; r < row_end; ++r) RowsAllTokens<L, 1>(a, r);
}

}  // namespace

namespace {

template <bool kRowByRowDecode>
void SetFloatMatMul(KernelTable* t) {
  t->matmul[static_cast<uint32_t>(DType::kF32)].matmul = &FloatMatMul512<F32Load, kRowByRowDecode>;
  t->matmul[static_cast<uint32_t>(DType::kF16)].matmul = &FloatMatMul512<F16Load, kRowByRowDecode>;
  t->matmul[static_cast<uint32_t>(DType::kBF16)].matmul = &FloatMatMul512<Bf16Load, kRowByRowDecode>;
}

}  // namespace

void FillAvx512FloatMatMul(KernelTable* t, DecodeForm form) {
  if (form != DecodeForm::kWide) {
    SetFloatMatMul<true>(t);
  } else {
    SetFloatMatMul<false>(t);
  }
}

}  // namespace omnicoder
