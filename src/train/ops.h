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
inline Mat Rows(const float* d, int64_t ld) { return {d, ld, 1}; }        // row-major
inline Mat Transposed(const float* d, int64_t ld) { return {d, 1, ld}; }  // A^T of row-major A

// C[m, n] (+)= A[m, k] B[k, n], parallel over tiles of C.
void Gemm(TrainContext& ctx, int m, int n, int k, Mat a, Mat b, float* c, int64_t ldc, bool accumulate);
// Same, on the calling thread only (inside a parallel region), rows [m0, m1) cols [n0, n1).
void GemmTile(TrainContext& ctx, int thread, const SgemmArgs& g, int m0, int m1, int n0, int n1);

// y = x * rstd * w per row; rstd[r] = 1 / sqrt(mean(x^2) + eps).
void RmsNormForward(TrainContext& ctx, const float* x, const float* w, float eps, int rows, int n, float* y,
                    float* rstd);
// dx (+)= RMSNorm backward; dw += sum over rows (fixed order, parallel over columns).
void RmsNormBackward(TrainContext& ctx, const float* x, const float* w, const float* rstd, const float* dy, int rows,
                     int n, float* dx, bool accumulate_dx, float* dw);

// cos/sin of position p and pair i at table[(p * head_dim / 2 + i) * 2 + {0, 1}].
void RopeTable(int n_pos, int head_dim, float base, float* table);
// RoPE on rows of n_heads * head_dim values, pairs (2i, 2i+1) (GGUF "norm" layout);
// row r sits at position pos[r]. inverse: rotate back (the backward pass).
void Rope(TrainContext& ctx, float* x, int rows, int n_heads, int head_dim, const int32_t* pos, const float* table,
          bool inverse);

// h = silu(g) * u.
void SiluMulForward(TrainContext& ctx, const float* g, const float* u, int64_t n, float* h);
// dg = dh * u * silu'(g), du = dh * silu(g).
void SiluMulBackward(TrainContext& ctx, const float* g, const float* u, const float* dh, int64_t n, float* dg,
                     float* du);

}  // namespace omnicoder
