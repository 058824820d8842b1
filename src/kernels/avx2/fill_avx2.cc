// AVX2 (+FMA, F16C) KernelTable entries: integer dot products via maddubs/madd.
#include "kernels/kernel_table.h"
#include "kernels/x86/act_impl.h"
#include "kernels/x86/matmul_float_impl.h"
#include "kernels/x86/matmul_k_impl.h"
#include "kernels/x86/matmul_q8_impl.h"
#include "kernels/x86/matmul_kx8_impl.h"
#include "kernels/x86/matmul_x8_impl.h"

namespace omnicoder {

void FillAvx2Kernels(KernelTable* t) {
  t->isa = "avx2";
  auto set = [t](DType type, MatMulFn fn, QuantizeActFn q) {
    MatMulKernel& k = t->matmul[static_cast<uint32_t>(type)];
    k.matmul = fn;
    if (q) k.quantize_act = q;
  };
  set(DType::kF32, &FloatMatMul<F32Load>, nullptr);
  set(DType::kF16, &FloatMatMul<F16Load>, [](const float* x, void* dst, int n) {
    F32ToF16X86(x, static_cast<uint16_t*>(dst), n);
  });
  set(DType::kBF16, &FloatMatMul<Bf16Load>, nullptr);
  set(DType::kQ4_0, &Q8MatMul<Q4_0Reader>, &QuantizeActQ8X86);
  set(DType::kQ4_1, &Q8MatMul<Q4_1Reader>, &QuantizeActQ8X86);
  set(DType::kQ5_0, &Q8MatMul<Q5_0Reader>, &QuantizeActQ8X86);
  set(DType::kQ5_1, &Q8MatMul<Q5_1Reader>, &QuantizeActQ8X86);
  set(DType::kQ8_0, &Q8MatMul<Q8_0Reader>, &QuantizeActQ8X86);
  set(DType::kQ4_K, &KMatMul<Q4KRow>, &QuantizeActQ8KX86);
  set(DType::kQ5_K, &KMatMul<Q5KRow>, &QuantizeActQ8KX86);
  set(DType::kQ6_K, &KMatMul<Q6KRow>, &QuantizeActQ8KX86);
  auto x8 = [t](DType type, MatMulFn fn, bool prefer) {
    t->matmul[static_cast<uint32_t>(type)].matmul_x8 = fn;
    t->matmul[static_cast<uint32_t>(type)].prefer_x8 = prefer;
  };
  x8(DType::kQ4_0, &X8MatMul<true>, true);
  x8(DType::kQ8_0, &X8MatMul<false>, true);
  x8(DType::kQ4_K, &KX8MatMul<true>, true);
  // Q6_K: the interleaved kernel measured slower than the row-major one (decode 9.9 vs
  // 16.9 GB/s per core, kernels_bench): its 6-bit unpack dominates either way and the
  // per-16-element scale multiplies add up. Available, not preferred.
  x8(DType::kQ6_K, &KX8MatMul<false>, false);
  t->rms_norm = &RmsNormX86;
  t->silu_mul = &SiluMulX86;
  t->axpy = &AxpyX86;
  t->softmax = &SoftmaxX86;
  t->attn_scores = &AttnScoresX86;
  t->attn_values = &AttnValuesX86;
  t->f32_to_f16 = &F32ToF16X86;
}

}  // namespace omnicoder
