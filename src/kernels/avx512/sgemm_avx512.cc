// AVX-512 sgemm: 12 x 32 register tile (24 zmm accumulators), B panels of 32 columns
// loaded as two vectors, A values broadcast; edges use lane masks.
#include <immintrin.h>

#include "kernels/kernel_table.h"
#include "kernels/sgemm_pack.h"

namespace omnicoder {

namespace {

constexpr int kMr = 12, kNr = 32;

void Micro(const SgemmTile& t) {
  const int kc = t.kc, rows = t.rows, cols = t.cols;
  const float *ap = t.a, *bp = t.b;
  float* c = t.c;
  const int64_t ldc = t.ldc;
  const bool overwrite = t.overwrite;
  __m512 acc[kMr][2];
#pragma GCC unroll 12
  for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(bp + p * kNr), b1 = _mm512_loadu_ps(bp + p * kNr + 16);
    const float* a = ap + p * kMr;
#pragma GCC unroll 12
    for (int r = 0; r < kMr; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __mmask16 m0 = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? static_cast<__mmask16>((1u << (cols - 16)) - 1) : 0;
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    if (overwrite) {
      _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
      _mm512_mask_storeu_ps(cr + 16, m1, acc[r][1]);
    } else {
      _mm512_mask_storeu_ps(cr, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), acc[r][0]));
      _mm512_mask_storeu_ps(cr + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), acc[r][1]));
    }
  }
}

void SgemmAvx512(const SgemmArgs& g, int m0, int m1, int n0, int n1, float* pack) {
  SgemmBlocked<kMr, kNr, &Micro>(g, m0, m1, n0, n1, pack);
}

}  // namespace

void FillAvx512Sgemm(KernelTable* t) {
  t->sgemm = &SgemmAvx512;
}

}  // namespace omnicoder
