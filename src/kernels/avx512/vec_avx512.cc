// AVX-512 element-wise kernels whose cost is exp: softmax and SiLU (exp_impl.h) with each
// exp computed on 8 doubles at once. Results are bit for bit the AVX2 kernels': the same
// per-lane operations, sums and orders.
#include "kernels/kernel_table.h"
#include "kernels/x86/exp_impl.h"

namespace omnicoder {
namespace {

// Exp4d (x86_common.h) on 8 doubles: the same operations lane by lane, so the same bits.
inline __m512d Exp8d(__m512d x) {
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471805599453), x);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(2.3190468138462996e-17), r);
  __m512d p = _mm512_set1_pd(1.0 / 39916800.0);
#pragma GCC unroll 11
  for (const double c : kExpTaylor) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
  const __m256i ni = _mm512_cvtpd_epi32(n);
  const __m512i e = _mm512_slli_epi64(_mm512_add_epi64(_mm512_cvtepi32_epi64(ni), _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(e));
}

// Exp8 (x86_common.h) with one 8-double exp instead of two of 4: the same bits.
inline __m256 Exp8W(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-103.0f)), _mm256_set1_ps(88.72f));
  return _mm512_cvtpd_ps(Exp8d(_mm512_cvtps_pd(x)));
}

}  // namespace

void FillAvx512Vector(KernelTable* t) {
  t->softmax = &SoftmaxT<Exp8W>;
  t->silu_mul = &SiluMulT<Exp8W>;
  t->swiglu_oai = &SwigluOaiT<Exp8W>;
}

}  // namespace omnicoder
