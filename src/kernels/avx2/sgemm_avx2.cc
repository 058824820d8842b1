// AVX2 sgemm: 6 x 16 register tile (12 ymm accumulators), A values broadcast; partial
// edge tiles go through a small stack tile.
#include <immintrin.h>

#include "kernels/kernel_table.h"
#include "kernels/sgemm_pack.h"

namespace omnicoder {

namespace {

constexpr int kMr = 6, kNr = 16;

void Micro(const SgemmTile& t) {
  const int kc = t.kc, rows = t.rows, cols = t.cols;
  const float *ap = t.a, *bp = t.b;
  float* c = t.c;
  const int64_t ldc = t.ldc;
  const bool overwrite = t.overwrite;
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(bp + p * kNr), b1 = _mm256_loadu_ps(bp + p * kNr + 8);
    const float* a = ap + p * kMr;
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  alignas(32) float tile[kNr];
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    if (cols == kNr) {
      if (overwrite) {
        _mm256_storeu_ps(cr, acc[r][0]);
        _mm256_storeu_ps(cr + 8, acc[r][1]);
      } else {
        _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]));
        _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]));
      }
      continue;
    }
    _mm256_store_ps(tile, acc[r][0]);
    _mm256_store_ps(tile + 8, acc[r][1]);
    for (int j = 0; j < cols; ++j) cr[j] = overwrite ? tile[j] : cr[j] + tile[j];
  }
}

void SgemmAvx2(const SgemmArgs& g, int m0, int m1, int n0, int n1, float* pack) {
  SgemmBlocked<kMr, kNr, &Micro>(g, m0, m1, n0, n1, pack);
}

}  // namespace

void FillAvx2Sgemm(KernelTable* t) {
  t->sgemm = &SgemmAvx2;
}

}  // namespace omnicoder
