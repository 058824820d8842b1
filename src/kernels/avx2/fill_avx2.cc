// AVX2 (+FMA, F16C) KernelTable entries: integer dot products via maddubs/madd.
#include "kernels/kernel_table.h"
#include "kernels/x86/act_impl.h"
#include "kernels/x86/attn_impl.h"
#include "kernels/x86/matmul_float_impl.h"
#include "kernels/x86/matmul_k_impl.h"
#include "kernels/x86/matmul_kx8_impl.h"
#include "kernels/x86/matmul_q8_impl.h"

namespace omnicoder {

void FillAvx2Kernels(KernelTable* t) {
  t->isa = "avx2";
  FillAvx2Sgemm(t);
  auto set = [t](DType type, MatMulFn fn, QuantizeActFn q) {
    MatMulKernel& k = t->matmul[static_cast<uint32_t>(type)];
    k.matmul = fn;
    if (q) k.quantize_act = q;
  };
  set(DType::kF32, &FloatMatMul<F32Load>, nullptr);
  set(DType::kF16, &FloatMatMul<F16Load>,
      [](const float* x, void* dst, int n) { F32ToF16X86(x, static_cast<uint16_t*>(dst), n); });
  set(DType::kBF16, &FloatMatMul<Bf16Load>, nullptr);
  set(DType::kQ4_0, &Q8MatMul<Q4_0Reader>, &QuantizeActQ8X86);
  set(DType::kQ4_1, &Q8MatMul<Q4_1Reader>, &QuantizeActQ8X86);
  set(DType::kQ5_0, &Q8MatMul<Q5_0Reader>, &QuantizeActQ8X86);
  set(DType::kQ5_1, &Q8MatMul<Q5_1Reader>, &QuantizeActQ8X86);
  set(DType::kQ8_0, &Q8MatMul<Q8_0Reader>, &QuantizeActQ8X86);
  set(DType::kMXFP4, &Q8MatMul<Mxfp4Reader>, &QuantizeActQ8X86);
  set(DType::kQ4_K, &KMatMul<Q4KRow>, &QuantizeActQ8KX86);
  set(DType::kQ5_K, &KMatMul<Q5KRow>, &QuantizeActQ8KX86);
  set(DType::kQ6_K, &KMatMul<Q6KRow>, &QuantizeActQ8KX86);
  SetX86InterleavedKernels(t);
  t->rms_norm = &RmsNormX86;
  t->silu_mul = &SiluMulT<Exp8>;
  t->swiglu_oai = &SwigluOaiT<Exp8>;
  t->axpy = &AxpyX86;
  t->softmax = &SoftmaxT<Exp8>;
  t->attn_scores = &AttnScoresX86;
  t->attn_scores_kt = &AttnScoresKtX86;
  t->attn_values = &AttnValuesX86;
  t->f32_to_f16 = &F32ToF16X86;
}

}  // namespace omnicoder
