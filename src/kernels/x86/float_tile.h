// One register tile of the float matmul (F32 / F16 / BF16 weights, activations of the same
// type), over a vector width's operations V: the AVX2 kernel (matmul_float_impl.h, 8 lanes)
// and the AVX-512 one (avx512/matmul_float_avx512.cc, 16 lanes) differ only in V and in
// their tile shapes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace omnicoder {
namespace {

// R rows x T tokens: each weight vector is loaded (and converted) once for T tokens and
// each activation vector once for R rows. Every (row, token) pair gets the same fused
// multiply-adds in the same order and the same V::Finish whatever R and T, so results do
// not depend on the tiling, the row range or the token count (decode = prefill).
template <class V, int R, int T>
inline void FloatTile(const MatMulArgs& a, int r0, int t0) {
  constexpr size_t kElem = V::kElem;
  const int n = a.in_dim, nv = n / V::kLanes * V::kLanes;
  const uint8_t* w[R];
  const uint8_t* x[T];
  typename V::Vec acc[R][T];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    w[r] = a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = V::Zero();
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
  for (int i = 0; i < nv; i += V::kLanes) {
    typename V::Vec xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = V::Load(x[t] + i * kElem);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const typename V::Vec wv = V::Load(w[r] + i * kElem);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[r][t] = V::Fma(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t)
      a.y[static_cast<size_t>(t0 + t) * a.y_stride + r0 + r] = V::Finish(acc[r][t], w[r], x[t], nv, n);
  }
}

}  // namespace
}  // namespace omnicoder
