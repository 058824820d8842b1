// AVX-512 element-wise kernels whose cost is exp: softmax and SiLU, with each exp
// computed on 8 doubles at once. Results are bit for bit the AVX2 kernels'
// (matmul_float_impl.h): the same per-lane operations, sums and orders.
#include <cmath>

#include "kernels/kernel_table.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

// Exp4d (x86_common.h) on 8 doubles: the same operations lane by lane, so the same bits.
inline __m512d Exp8d(__m512d x) {
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471805599453), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(2.3190468138462996e-17), r);
  __m512d p = _mm512_set1_pd(1.0 / 39916800.0);
  for (const double c : {1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
                         1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0}) {
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
  }
  const __m256i ni = _mm512_cvtpd_epi32(n);
  const __m512i e = _mm512_slli_epi64(_mm512_add_epi64(_mm512_cvtepi32_epi64(ni), _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(e));
}

// Exp8 (x86_common.h) with one 8-double exp instead of two of 4: the same bits.
inline __m256 Exp8W(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-103.0f)), _mm256_set1_ps(88.72f));
  return _mm512_cvtpd_ps(Exp8d(_mm512_cvtps_pd(x)));
}

// exp(x - max) of 8 floats (lanes past `m` zero).
inline __m256 ExpShifted8(const float* x, __mmask8 m, __m256 max) {
  return _mm256_maskz_mov_ps(m, Exp8W(_mm256_sub_ps(_mm256_maskz_loadu_ps(m, x), max)));
}

// SoftmaxX86's results bit for bit (the same per-lane exp, the same 8 double partial sums
// in the same order, the same final tree and tail), with each exp 8 doubles wide.
void Softmax512(float* x, int n) {
  __m512 mv16 = _mm512_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 16 <= n; i += 16) mv16 = _mm512_max_ps(mv16, _mm512_loadu_ps(x + i));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, mv16);
  float max = -INFINITY;
  for (float v : lanes) max = std::fmax(max, v);
  for (; i < n; ++i) max = std::fmax(max, x[i]);
  const __m256 mv = _mm256_set1_ps(max);
  __m512d sums = _mm512_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = ExpShifted8(x + i, 0xFF, mv);
    _mm256_storeu_ps(x + i, e);
    sums = _mm512_add_pd(sums, _mm512_cvtps_pd(e));
  }
  double tail = 0.0;
  if (i < n) {
    const __mmask8 m = static_cast<__mmask8>((1u << (n - i)) - 1);
    alignas(32) float t[8];
    _mm256_store_ps(t, ExpShifted8(x + i, m, mv));
    _mm256_mask_storeu_ps(x + i, m, _mm256_load_ps(t));
    for (int j = 0; j < n - i; ++j) tail += t[j];
  }
  alignas(64) double d[8];
  _mm512_store_pd(d, sums);
  const double sum = (((d[0] + d[4]) + (d[1] + d[5])) + ((d[2] + d[6]) + (d[3] + d[7]))) + tail;
  const float inv = static_cast<float>(1.0 / sum);
  const __m512 iv = _mm512_set1_ps(inv);
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), iv));
  for (; i < n; ++i) x[i] *= inv;
}

// SiluMulX86's results bit for bit.
void SiluMul512(float* gate, const float* up, int n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int i = 0; i < n; i += 8) {
    const __mmask8 m = n - i >= 8 ? 0xFF : static_cast<__mmask8>((1u << (n - i)) - 1);
    const __m256 g = _mm256_maskz_loadu_ps(m, gate + i);
    const __m256 e = Exp8W(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_mask_storeu_ps(gate + i, m,
                          _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace

void FillAvx512Vector(KernelTable* t) {
  t->softmax = &Softmax512;
  t->silu_mul = &SiluMul512;
}

}  // namespace omnicoder
