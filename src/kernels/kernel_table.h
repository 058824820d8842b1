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
#include "omnicoder/types.h"
#include "tensor/dtype.h"

namespace omnicoder {

struct CpuFeatures;

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
  // Decode tiles (1-3 tokens) prefetch the weights ahead with PREFETCHNTA instead of T0
  // (KernelTable::decode_prefetch_nta); the results are the same either way.
  bool prefetch_nta = false;
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
// n_q queries that share the K/V head (a GQA group, MLA heads over the latent) go in one
// call, so each K/V row is read and converted once for all of them. Query g's results
// are bitwise the same whatever n_q, the position count or the run boundaries.
struct AttnArgs {
  const float* q = nullptr;    // query 0 [head_dim]; query g at q + g * q_stride
  const uint8_t* k = nullptr;  // first position's K for this head
  const uint8_t* v = nullptr;
  size_t kv_row_bytes = 0;  // distance between positions
  DType kv_type = DType::kF16;
  int head_dim = 0;
  int n_pos = 0;
  float scale = 1.0f;
  bool accumulate = false;  // attn_values adds to `out` (continuing a sum over earlier rows)
  int n_q = 1;
  size_t q_stride = 0;       // floats between queries
  size_t scores_stride = 0;  // floats between queries' score / probability rows
  size_t out_stride = 0;     // floats between queries' outputs
  // attn_scores_kt only: K stored dim-major (kv_cache.h), element (position p, dim d) at
  // k + p * element size + d * k_dim_bytes; kv_row_bytes is then V's alone.
  size_t k_dim_bytes = 0;
};

// C[i, j] (+)= sum_p A[i, p] * B[p, j], with A and B addressed through strides so a
// transposed operand needs no copy: A[i, p] = a[i * a_row + p * a_col], B[p, j] =
// b[p * b_row + j * b_col]. The sum runs over p in blocks of kSgemmKc in increasing order
// whatever the tile, so any split of (i, j) over threads gives the same bits.
struct SgemmArgs {
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t a_row = 0, a_col = 1;
  const float* b = nullptr;
  int64_t b_row = 0, b_col = 1;
  float* c = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;  // C += A B (else C = A B)
};
constexpr int kSgemmKc = 256;
constexpr int kSgemmMc = 96;   // rows of A packed at once (a multiple of every MR)
constexpr int kSgemmNc = 512;  // columns of B packed at once (a multiple of every NR)
// Floats of packing scratch one sgemm call needs.
constexpr size_t kSgemmPackFloats = size_t{kSgemmKc} * (kSgemmMc + kSgemmNc);
// Computes C rows [m0, m1) x columns [n0, n1); `pack` holds kSgemmPackFloats floats.
using SgemmFn = void (*)(const SgemmArgs& args, int m0, int m1, int n0, int n1, float* pack);

struct KernelTable {
  std::string isa;  // "ref", "avx2", "avx512", "amx", "neon"
  MatMulKernel matmul[kDTypeIdLimit];
  // What callers put in MatMulArgs::prefetch_nta: this CPU streams decode weights faster
  // with non-temporal prefetches (CpuFeatures::stream_nta; x86 levels only).
  bool decode_prefetch_nta = false;

  // y = x / rms(x) * w  (n elements; w may be null for no weight)
  void (*rms_norm)(const float* x, const float* w, float eps, float* y, int n) = nullptr;
  // gate[i] = silu(gate[i]) * up[i]
  void (*silu_mul)(float* gate, const float* up, int n) = nullptr;
  // gpt-oss's clamped SwiGLU: g = min(gate, 7), u = clamp(up, -7, 7),
  // gate[i] = g * sigmoid(1.702 g) * (u + 1)
  void (*swiglu_oai)(float* gate, const float* up, int n) = nullptr;
  // y[i] += s * x[i]
  void (*axpy)(float* y, const float* x, float s, int n) = nullptr;
  // scores[g * scores_stride + p] = scale * dot(q_g, K[p]) for p < n_pos, g < n_q
  void (*attn_scores)(const AttnArgs& a, float* scores) = nullptr;
  // The same scores over dim-major K (AttnArgs::k_dim_bytes): per position one fused
  // multiply-add per head dim in dim order, then the scale, so every ISA gives the
  // reference's bits (no reduction across lanes)
  void (*attn_scores_kt)(const AttnArgs& a, float* scores) = nullptr;
  // out_g[d] = sum_p probs_g[p] * V[p][d], positions in order
  // (or out_g[d] += ... with a.accumulate: a sum split over runs of rows equals the
  // sum in one pass, bit for bit); out_g = out + g * out_stride, probs_g likewise
  void (*attn_values)(const AttnArgs& a, const float* probs, float* out) = nullptr;
  // in-place softmax of n values; returns nothing (max-subtracted, sum in double)
  void (*softmax)(float* x, int n) = nullptr;
  // f32 -> f16 for the KV cache
  void (*f32_to_f16)(const float* x, uint16_t* y, int n) = nullptr;
  // f32 matrix product for training (see SgemmArgs)
  SgemmFn sgemm = nullptr;
  // The same product with A and B rounded to BF16 (f32 accumulation), on AMX tiles;
  // nullptr where the CPU (or the OS) offers no AMX-BF16.
  SgemmFn sgemm_bf16 = nullptr;
};

// Table for a level (falls back to the best level below it that the CPU supports).
const KernelTable& GetKernelTable(Isa level = Isa::kAuto);
// Whether `level` can run here.
bool IsaAvailable(Isa level);

// Filled by each ISA's files (declared here, defined under ref/, avx2/, avx512/, neon/).
void FillRefKernels(KernelTable* t);
void FillAvx2Kernels(KernelTable* t);
// The avx512 level's forms of decode (1-3 token) tiles, chosen per CPU by measurement
// (kernels_bench's avx512w / avx512n / avx512h rows); every form gives the same bits.
enum class DecodeForm {
  kWide,    // pairs of 8-row groups in 512-bit registers; float rows in sixes (Intel)
  kNarrow,  // one group at a time in 256-bit registers; float rows one at a time (Zen 5)
  kHalves,  // kNarrow, and Q6_K through the AVX2 level's kernel (Zen 4: zmm_halves)
};
DecodeForm DecodeFormFor(const CpuFeatures& f);
void FillAvx512Kernels(KernelTable* t, DecodeForm form);
void FillNeonKernels(KernelTable* t);
void FillAvx2Sgemm(KernelTable* t);
void FillAvx512Sgemm(KernelTable* t);
void FillAvx512Attention(KernelTable* t);
void FillAvx512Vector(KernelTable* t);
void FillAvx512FloatMatMul(KernelTable* t, DecodeForm form);
// The amx level (kernels/amx). The same code compiled with the tile instructions
// emulated is amx_emulated:: (kernels/amx_emulated, for tests).
namespace amx_native {
void FillAmxSgemm(KernelTable* t);
void FillAmxInt8Kernels(KernelTable* t);
}  // namespace amx_native

}  // namespace omnicoder
