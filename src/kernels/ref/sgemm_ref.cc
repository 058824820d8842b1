// Scalar reference sgemm: the oracle for the blocked SIMD versions (same kc blocking, so
// they differ only by fused multiply-add rounding).
#include "kernels/kernel_table.h"
#include "kernels/ref/ref.h"

namespace omnicoder {

void ref::SgemmRef(const SgemmArgs& g, int m0, int m1, int n0, int n1, float*) {
  for (int i = m0; i < m1; ++i) {
    for (int j = n0; j < n1; ++j) {
      float* c = g.c + static_cast<int64_t>(i) * g.ldc + j;
      if (!g.accumulate) *c = 0.0f;
      for (int p0 = 0; p0 < g.k; p0 += kSgemmKc) {
        const int p1 = g.k - p0 < kSgemmKc ? g.k : p0 + kSgemmKc;
        float s = 0.0f;
        for (int p = p0; p < p1; ++p) {
          s += g.a[static_cast<int64_t>(i) * g.a_row + static_cast<int64_t>(p) * g.a_col] *
               g.b[static_cast<int64_t>(p) * g.b_row + static_cast<int64_t>(j) * g.b_col];
        }
        *c = (p0 == 0 && !g.accumulate) ? s : *c + s;
      }
    }
  }
}

}  // namespace omnicoder
