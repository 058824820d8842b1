// Query groups for the register-blocked attention kernels (x86, NEON): a call's n_q
// queries go in groups of a power of two, the largest first (kMax, then halves).
#pragma once

#include <cstddef>

namespace omnicoder {

// fn(nq, in, out) per group: nq queries, in[i] = in + (g + i) * in_stride (queries or
// probabilities), out[i] = out + (g + i) * out_stride (scores or outputs).
template <int kMax, class Fn>
inline void ForQueryGroups(int n_q, const float* in, size_t in_stride, float* out, size_t out_stride, Fn&& fn) {
  for (int g = 0; g < n_q;) {
    int nq = kMax;
    while (nq > n_q - g) nq /= 2;
    const float* ip[kMax];
    float* op[kMax];
    for (int i = 0; i < nq; ++i) {
      ip[i] = in + (g + i) * in_stride;
      op[i] = out + (g + i) * out_stride;
    }
    fn(nq, ip, op);
    g += nq;
  }
}

}  // namespace omnicoder
