// x86 element-wise kernels whose cost is exp (SiLU, softmax), over any 8-float exp with
// Exp8's results (x86_common.h): the AVX2 level passes Exp8, the AVX-512 level an exp on 8
// doubles at once -- the same bits, so the same sums and orders give the same results.
#pragma once

#include <cmath>
#include <cstring>

#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

// gate[i] = f(gate[i], up[i]) 8 at a time for every element (the tail via a padded
// copy), so an element's result never depends on where a range starts or ends.
template <typename F>
inline void GateUpEights(float* gate, const float* up, int n, F eight) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, eight(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {};
    std::memcpy(g, gate + i, sizeof(float) * (n - i));
    std::memcpy(u, up + i, sizeof(float) * (n - i));
    _mm256_store_ps(g, eight(_mm256_load_ps(g), _mm256_load_ps(u)));
    std::memcpy(gate + i, g, sizeof(float) * (n - i));
  }
}

template <__m256 (*Exp)(__m256)>
void SiluMulT(float* gate, const float* up, int n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  auto eight = [&](__m256 g, __m256 u) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
  };
  GateUpEights(gate, up, n, eight);
}

// gpt-oss's clamped SwiGLU (kernel_table.h), 8 at a time through the same vector exp:
// x = min(gate, 7), y = clamp(up, -7, 7), gate = x / (1 + exp(-1.702 x)) * (y + 1).
template <__m256 (*Exp)(__m256)>
void SwigluOaiT(float* gate, const float* up, int n) {
  const __m256 one = _mm256_set1_ps(1.0f), limit = _mm256_set1_ps(7.0f), neg_limit = _mm256_set1_ps(-7.0f);
  const __m256 neg_alpha = _mm256_set1_ps(-1.702f);
  auto eight = [&](__m256 g, __m256 u) {
    // min/max return their second operand when one is NaN: a NaN input stays NaN, as in
    // the reference's std::min / std::clamp.
    const __m256 x = _mm256_min_ps(limit, g);
    const __m256 y = _mm256_min_ps(limit, _mm256_max_ps(neg_limit, u));
    const __m256 e = Exp(_mm256_mul_ps(neg_alpha, x));
    return _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_add_ps(y, one));
  };
  GateUpEights(gate, up, n, eight);
}

// Exponentials 8 at a time; the normalizing sum runs in double over 8 lanes (two
// registers of 4), then lane by lane in a fixed order: no serial chain of n additions.
template <__m256 (*Exp)(__m256)>
void SoftmaxT(float* x, int n) {
  __m256 mv8 = _mm256_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 8 <= n; i += 8) mv8 = _mm256_max_ps(mv8, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, mv8);
  float max = -INFINITY;
  for (float v : lanes) max = std::fmax(max, v);
  for (; i < n; ++i) max = std::fmax(max, x[i]);
  const __m256 mv = _mm256_set1_ps(max);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  double tail = 0.0;
  if (i < n) {
    alignas(32) float t[8] = {};
    std::memcpy(t, x + i, sizeof(float) * (n - i));
    _mm256_store_ps(t, Exp(_mm256_sub_ps(_mm256_load_ps(t), mv)));
    std::memcpy(x + i, t, sizeof(float) * (n - i));
    for (int j = 0; j < n - i; ++j) tail += t[j];
  }
  alignas(32) double d[8];
  _mm256_store_pd(d, s0);
  _mm256_store_pd(d + 4, s1);
  const double sum = (((d[0] + d[4]) + (d[1] + d[5])) + ((d[2] + d[6]) + (d[3] + d[7]))) + tail;
  const float inv = static_cast<float>(1.0 / sum);
  const __m256 iv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), iv));
  for (; i < n; ++i) x[i] *= inv;
}

}  // namespace
}  // namespace omnicoder
