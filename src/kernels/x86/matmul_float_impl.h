// x86 matmul of F32, F16 and BF16 weights with activations of the same type, and the
// f32 vector kernels (norm, SwiGLU, softmax). Included by avx2/.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/exp_impl.h"
#include "kernels/x86/float_load.h"
#include "kernels/x86/float_tile.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

// 8 lanes of f32 from loader L; the lanes' sum (Hsum's tree), then the last elements one
// by one.
template <class L>
struct Lanes8 {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static constexpr size_t kElem = L::kElem;
  static Vec Zero() { return _mm256_setzero_ps(); }
  static Vec Load(const uint8_t* p) { return L::Load(p); }
  static Vec Fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static float Finish(Vec acc, const uint8_t* w, const uint8_t* x, int from, int n) {
    float s = Hsum(acc);
    for (int i = from; i < n; ++i) s += L::One(w + i * kElem) * L::One(x + i * kElem);
    return s;
  }
};

// Rows in fours outermost (their weights stay in cache for every token), tokens in pairs.
template <class L>
void FloatMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  auto rows = [&](auto tile_pair, auto tile_one, int r) {
    int t = 0;
    for (; t + 2 <= a.n_tokens; t += 2) tile_pair(a, r, t);
    if (t < a.n_tokens) tile_one(a, r, t);
  };
  int r = row_begin;
  for (; r + 4 <= row_end; r += 4) rows(FloatTile<Lanes8<L>, 4, 2>, FloatTile<Lanes8<L>, 4, 1>, r);
  for (; r < row_end; ++r) rows(FloatTile<Lanes8<L>, 1, 2>, FloatTile<Lanes8<L>, 1, 1>, r);
}

void RmsNormX86(const float* x, const float* w, float eps, float* y, int n) {
  __m256 acc = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc = _mm256_fmadd_ps(v, v, acc);
  }
  double sum = Hsum(acc);
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  const __m256 s = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void AxpyX86(float* y, const float* x, float s, int n) {
  int i = 0;
  const __m256 sv = _mm256_set1_ps(s);
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += s * x[i];
}

void F32ToF16X86(const float* x, uint16_t* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) y[i] = F32ToF16(x[i]);
}

}  // namespace
}  // namespace omnicoder
