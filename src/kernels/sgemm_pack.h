// Packing for the blocked sgemm kernels (portable code shared by every ISA's file):
// A blocks become [kc][MR] panels, B blocks [kc][NR] panels, zero-padded at the edges.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"

namespace omnicoder {

// Rows [i0, i0 + mc) x depth [p0, p0 + kc) of A into panels of MR rows each.
template <int MR>
inline void PackA(const SgemmArgs& g, int i0, int mc, int p0, int kc, float* dst) {
  for (int r0 = 0; r0 < mc; r0 += MR) {
    const int rows = mc - r0 < MR ? mc - r0 : MR;
    float* panel = dst + static_cast<size_t>(r0) * kc;
    const float* base = g.a + static_cast<int64_t>(i0 + r0) * g.a_row + static_cast<int64_t>(p0) * g.a_col;
    if (g.a_col == 1) {  // rows are contiguous: read along each row
      for (int r = 0; r < rows; ++r) {
        const float* src = base + static_cast<int64_t>(r) * g.a_row;
        for (int p = 0; p < kc; ++p) panel[static_cast<size_t>(p) * MR + r] = src[p];
      }
      for (int r = rows; r < MR; ++r) {
        for (int p = 0; p < kc; ++p) panel[static_cast<size_t>(p) * MR + r] = 0.0f;
      }
      continue;
    }
    for (int p = 0; p < kc; ++p) {
      const float* src = base + static_cast<int64_t>(p) * g.a_col;
      float* d = panel + static_cast<size_t>(p) * MR;
      int r = 0;
      for (; r < rows; ++r) d[r] = src[r * g.a_row];
      for (; r < MR; ++r) d[r] = 0.0f;
    }
  }
}

// Columns [j0, j0 + nc) x depth [p0, p0 + kc) of B into panels of NR columns each.
template <int NR>
inline void PackB(const SgemmArgs& g, int j0, int nc, int p0, int kc, float* dst) {
  for (int c0 = 0; c0 < nc; c0 += NR) {
    const int cols = nc - c0 < NR ? nc - c0 : NR;
    float* panel = dst + static_cast<size_t>(c0) * kc;
    const float* base = g.b + static_cast<int64_t>(p0) * g.b_row + static_cast<int64_t>(j0 + c0) * g.b_col;
    if (g.b_row == 1) {  // columns are contiguous (B is a transposed row-major matrix)
      for (int c = 0; c < cols; ++c) {
        const float* src = base + static_cast<int64_t>(c) * g.b_col;
        for (int p = 0; p < kc; ++p) panel[static_cast<size_t>(p) * NR + c] = src[p];
      }
      for (int c = cols; c < NR; ++c) {
        for (int p = 0; p < kc; ++p) panel[static_cast<size_t>(p) * NR + c] = 0.0f;
      }
      continue;
    }
    for (int p = 0; p < kc; ++p) {
      const float* src = base + static_cast<int64_t>(p) * g.b_row;
      float* d = panel + static_cast<size_t>(p) * NR;
      if (g.b_col == 1 && cols == NR) {
        std::memcpy(d, src, sizeof(float) * NR);
        continue;
      }
      int c = 0;
      for (; c < cols; ++c) d[c] = src[c * g.b_col];
      for (; c < NR; ++c) d[c] = 0.0f;
    }
  }
}

// One register tile of the loop nest: C[rows x cols] (rows ldc apart) = (overwrite) or +=
// the packed A panel (MR rows) times the packed B panel (NR columns) over kc.
struct SgemmTile {
  int kc;
  const float* a;
  const float* b;
  float* c;
  int64_t ldc;
  int rows, cols;
  bool overwrite;
};

// The blocked loop nest around an ISA's register tile.
template <int MR, int NR, void (*Micro)(const SgemmTile&)>
inline void SgemmBlocked(const SgemmArgs& g, int m0, int m1, int n0, int n1, float* pack) {
  float* bpack = pack;
  float* apack = pack + static_cast<size_t>(kSgemmKc) * kSgemmNc;
  for (int j0 = n0; j0 < n1; j0 += kSgemmNc) {
    const int nc = n1 - j0 < kSgemmNc ? n1 - j0 : kSgemmNc;
    for (int p0 = 0; p0 < g.k; p0 += kSgemmKc) {
      const int kc = g.k - p0 < kSgemmKc ? g.k - p0 : kSgemmKc;
      const bool overwrite = p0 == 0 && !g.accumulate;
      PackB<NR>(g, j0, nc, p0, kc, bpack);
      for (int i0 = m0; i0 < m1; i0 += kSgemmMc) {
        const int mc = m1 - i0 < kSgemmMc ? m1 - i0 : kSgemmMc;
        PackA<MR>(g, i0, mc, p0, kc, apack);
        for (int jr = 0; jr < nc; jr += NR) {
          for (int ir = 0; ir < mc; ir += MR) {
            float* c = g.c + static_cast<int64_t>(i0 + ir) * g.ldc + (j0 + jr);
            Micro({kc, apack + static_cast<size_t>(ir) * kc, bpack + static_cast<size_t>(jr) * kc, c, g.ldc,
                   mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR, overwrite});
          }
        }
      }
    }
    if (g.k == 0 && !g.accumulate) {
      for (int i = m0; i < m1; ++i) std::memset(g.c + static_cast<int64_t>(i) * g.ldc + j0, 0, sizeof(float) * nc);
    }
  }
}

}  // namespace omnicoder
