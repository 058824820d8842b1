// Building blocks of the training forward/backward pass, on f32 row-major matrices.
//
// Every op is deterministic for a given input whatever the thread count: work is split
// over output rows/columns only, and every sum runs in a fixed order.
#pragma once

#include <cstdint>
#include <vector>

#include "base/aligned_buffer.h"
#include "kernels/kernel_table.h"

namespace omnicoder {

class ThreadPool;

struct TrainContext {
  const KernelTable* kernels = nullptr;
  ThreadPool* pool = nullptr;
  SgemmFn sgemm = nullptr;          // f32, or BF16-input (AMX) when Init was asked for it
  std::vector<AlignedBuffer> pack;  // per thread: kSgemmPackFloats floats
  // bf16: round matmul inputs to BF16 (f32 accumulation, f32 master weights) where the
  // CPU has AMX-BF16; returns whether that is what runs.
  bool Init(const KernelTable* k, ThreadPool* p, bool bf16 = false);
  float* Pack(int thread) { return pack[thread].as<float>(); }
};

// Matrix operands: element (i, j) at data[i * row + j * col].
struct Mat {
  const float* data;
  int64_t row, col;
};
inline Mat Rows(const float* d, int64_t ld) {
  return {d, ld, 1};
}  // row-major
inline Mat Transposed(const float* d, int64_t ld) {
  return {d, 1, ld};
}  // A^T of row-major A

// The output operand: element (i, j) at data[i * ld + j].
struct MatOut {
  float* data;
  int64_t ld;
};
struct GemmDims {
  int m, n, k;
};
// The kernel arguments of C[m, n] (+)= A[m, k] B[k, n].
SgemmArgs MakeSgemm(GemmDims d, Mat a, Mat b, MatOut c, bool accumulate);
// C[m, n] (+)= A[m, k] B[k, n], parallel over tiles of C.
void Gemm(TrainContext& ctx, GemmDims d, Mat a, Mat b, MatOut c, bool accumulate);
// Rows [m0, m1) and columns [n0, n1) of C.
struct TileRange {
  int m0, m1, n0, n1;
};
// Same, on the calling thread only (inside a parallel region), one tile of C.
void GemmTile(TrainContext& ctx, int thread, const SgemmArgs& g, TileRange tile);

// An RMSNorm over `rows` rows of n: weight w [n], epsilon.
struct NormRows {
  const float* w;
  float eps;
  int rows, n;
};
// y = x * rstd * w per row; rstd[r] = 1 / sqrt(mean(x^2) + eps).
void RmsNormForward(TrainContext& ctx, const NormRows& norm, const float* x, float* y, float* rstd);
// Where an RMSNorm's backward writes: dx (overwritten, or added to when accumulate_dx),
// dw (added to).
struct NormGrads {
  float* dx;
  bool accumulate_dx;
  float* dw;
};
// dx (+)= RMSNorm backward; dw += sum over rows (fixed order, parallel over columns).
void RmsNormBackward(TrainContext& ctx, const NormRows& norm, const float* x, const float* rstd, const float* dy,
                     const NormGrads& grads);

// cos/sin of position p and pair i at table[(p * head_dim / 2 + i) * 2 + {0, 1}].
void RopeTable(int n_pos, int head_dim, float base, float* table);
// Rows of n_heads * head_dim values, row r at position pos[r]; table from RopeTable.
struct RopeRows {
  int rows, n_heads, head_dim;
  const int32_t* pos;
  const float* table;
};
// RoPE on the rows, pairs (2i, 2i+1) (GGUF "norm" layout). inverse: rotate back (the
// backward pass).
void Rope(TrainContext& ctx, float* x, const RopeRows& r, bool inverse);

// h = silu(g) * u.
void SiluMulForward(TrainContext& ctx, const float* g, const float* u, int64_t n, float* h);
struct SiluMulGrads {
  float* dg;
  float* du;
};
// dg = dh * u * silu'(g), du = dh * silu(g).
void SiluMulBackward(TrainContext& ctx, const float* g, const float* u, const float* dh, int64_t n,
                     const SiluMulGrads& grads);

}  // namespace omnicoder
