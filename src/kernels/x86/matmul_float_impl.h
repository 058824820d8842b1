// x86 matmul of F32, F16 and BF16 weights with activations of the same type, and the
// f32 vector kernels (norm, SwiGLU, softmax). Included by avx2/.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/float_load.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

// R rows x T tokens: each weight vector is loaded (and converted) once for T tokens and
// each activation vector once for R rows. Every (row, token) pair gets the same fused
// multiply-adds in the same order and the same final sum whatever R and T, so results do
// not depend on the tiling, the row range or the token count.
template <class L, int R, int T>
inline void FloatTile(const MatMulArgs& a, int r0, int t0) {
  const int n = a.in_dim, n8 = n / 8 * 8;
  const uint8_t* w[R];
  const uint8_t* x[T];
  __m256 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    w[r] = a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
  for (int i = 0; i < n8; i += 8) {
    __m256 xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = L::Load(x[t] + i * L::kElem);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 wv = L::Load(w[r] + i * L::kElem);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float s = Hsum(acc[r][t]);
      for (int i = n8; i < n; ++i) s += L::One(w[r] + i * L::kElem) * L::One(x[t] + i * L::kElem);
      a.y[static_cast<size_t>(t0 + t) * a.y_stride + r0 + r] = s;
    }
  }
}

// Rows in fours outermost (their weights stay in cache for every token), tokens in pairs.
template <class L>
void FloatMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  auto rows = [&](auto tile_pair, auto tile_one, int r) {
    int t = 0;
    for (; t + 2 <= a.n_tokens; t += 2) tile_pair(a, r, t);
    if (t < a.n_tokens) tile_one(a, r, t);
  };
  int r = row_begin;
  for (; r + 4 <= row_end; r += 4) rows(FloatTile<L, 4, 2>, FloatTile<L, 4, 1>, r);
  for (; r < row_end; ++r) rows(FloatTile<L, 1, 2>, FloatTile<L, 1, 1>, r);
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

// Every element goes through the same vector exp (the tail via a padded copy), so an
// element's result never depends on where a range starts or ends.
void SiluMulX86(float* gate, const float* up, int n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  auto eight = [&](__m256 g, __m256 u) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
  };
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

void AxpyX86(float* y, const float* x, float s, int n) {
  int i = 0;
  const __m256 sv = _mm256_set1_ps(s);
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += s * x[i];
}

// Exponentials 8 at a time; the normalizing sum runs in double over 8 lanes (two
// registers of 4), then lane by lane in a fixed order: no serial chain of n additions.
void SoftmaxX86(float* x, int n) {
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
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  double tail = 0.0;
  if (i < n) {
    alignas(32) float t[8] = {};
    std::memcpy(t, x + i, sizeof(float) * (n - i));
    _mm256_store_ps(t, Exp8(_mm256_sub_ps(_mm256_load_ps(t), mv)));
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
