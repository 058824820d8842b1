// KernelTable: the function pointers every compute step goes through, filled once from
// the CPU's features (ref -> avx2 -> avx512 on x86, ref -> neon on ARM).
//
// Contracts for every kernel: it works on the row range it is given, never spawns
// threads, allocates or logs; the arithmetic for one output element does not depend on
// the range or on how many rows are processed together, so results are bitwise equal
// for any thread count. Each kernel has a scalar reference (ref/) it is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/act_format.h"
#include "tensor/dtype.h"

namespace omnicoder {

// y[t * y_stride + r] = dot(W[r, :], x_t) for r in [row_begin, row_end), t < n_tokens.
struct MatMulArgs {
  const uint8_t* w = nullptr;  // weight rows in their stored format
  size_t w_row_bytes = 0;
  const uint8_t* x = nullptr;  // activation rows in the act format, x_row_bytes apart
  size_t x_row_bytes = 0;
  float* y = nullptr;
  size_t y_stride = 0;
  int in_dim = 0;
  int n_tokens = 1;
};
using MatMulFn = void (*)(const MatMulArgs& args, int row_begin, int row_end);
// Converts one f32 row of n elements into the act format at dst.
using QuantizeActFn = void (*)(const float* x, void* dst, int n);

struct MatMulKernel {
  ActFormat act = ActFormat::kF32;
  QuantizeActFn quantize_act = nullptr;
  MatMulFn matmul = nullptr;     // row-major weights; nullptr: type not supported
  MatMulFn matmul_x8 = nullptr;  // 8-row interleaved weights (repack.h); row ranges are
                                 // multiples of 8; nullptr: no interleaved form
  bool prefer_x8 = false;        // this ISA's x8 kernel beats its row-major one: repack
};

// Attention over a KV cache row range. K/V rows hold n_kv_heads*head_dim values in
// kv_type (F32 or F16); these kernels see one head's slice via row pointers + stride.
struct AttnArgs {
  const float* q = nullptr;  // [head_dim]
  const uint8_t* k = nullptr;  // first position's K for this head
  const uint8_t* v = nullptr;
  size_t kv_row_bytes = 0;   // distance between positions
  DType kv_type = DType::kF16;
  int head_dim = 0;
  int n_pos = 0;
  float scale = 1.0f;
};

struct KernelTable {
  std::string isa;  // "ref", "avx2", "avx512", "neon"
  MatMulKernel matmul[kDTypeIdLimit];

  // y = x / rms(x) * w  (n elements; w may be null for no weight)
  void (*rms_norm)(const float* x, const float* w, float eps, float* y, int n) = nullptr;
  // gate[i] = silu(gate[i]) * up[i]
  void (*silu_mul)(float* gate, const float* up, int n) = nullptr;
  // y[i] += s * x[i]
  void (*axpy)(float* y, const float* x, float s, int n) = nullptr;
  // scores[p] = scale * dot(q, K[p]) for p < n_pos
  void (*attn_scores)(const AttnArgs& a, float* scores) = nullptr;
  // out[d] = sum_p probs[p] * V[p][d]
  void (*attn_values)(const AttnArgs& a, const float* probs, float* out) = nullptr;
  // in-place softmax of n values; returns nothing (max-subtracted, sum in double)
  void (*softmax)(float* x, int n) = nullptr;
  // f32 -> f16 for the KV cache
  void (*f32_to_f16)(const float* x, uint16_t* y, int n) = nullptr;
};

enum class IsaLevel { kRef, kAvx2, kAvx512, kNeon, kBest };

// Table for a level (falls back to the best level below it that the CPU supports).
const KernelTable& GetKernelTable(IsaLevel level = IsaLevel::kBest);
// Whether `level` can run here.
bool IsaAvailable(IsaLevel level);

// Filled by each ISA's files (declared here, defined under ref/, avx2/, avx512/, neon/).
void FillRefKernels(KernelTable* t);
void FillAvx2Kernels(KernelTable* t);
void FillAvx512Kernels(KernelTable* t);
void FillNeonKernels(KernelTable* t);

}  // namespace omnicoder
