// AVX-512 (VL, BW, VNNI) KernelTable entries: the 32-block integer formats use vpdpbusd,
// which fuses the u8 x s8 products, pair sums and accumulation into one instruction.
// Layered over the AVX2 table (FillAvx2Kernels runs first); only what is faster here
// is replaced.
#define OC_X86_VNNI 1
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_k_impl.h"
#include "kernels/x86/matmul_kx8_impl.h"
#include "kernels/x86/matmul_q8_impl.h"

namespace omnicoder {

void FillAvx512Kernels(KernelTable* t) {
  t->isa = "avx512";
  FillAvx512Sgemm(t);
  FillAvx512Attention(t);
  FillAvx512Vector(t);
  FillAvx512FloatMatMul(t);
  auto set = [t](DType type, MatMulFn fn) { t->matmul[static_cast<uint32_t>(type)].matmul = fn; };
  set(DType::kQ4_0, &Q8MatMul<Q4_0Reader>);
  set(DType::kQ4_1, &Q8MatMul<Q4_1Reader>);
  set(DType::kQ5_0, &Q8MatMul<Q5_0Reader>);
  set(DType::kQ5_1, &Q8MatMul<Q5_1Reader>);
  set(DType::kQ8_0, &Q8MatMul<Q8_0Reader>);
  set(DType::kMXFP4, &Q8MatMul<Mxfp4Reader>);
  SetX86InterleavedKernels(t);
  set(DType::kQ4_K, &KMatMul<Q4KRow>);
  set(DType::kQ5_K, &KMatMul<Q5KRow>);
  set(DType::kQ6_K, &KMatMul<Q6KRow>);
}

}  // namespace omnicoder
