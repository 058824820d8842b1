// AVX-512 (VL, BW, VNNI) KernelTable entries: the 32-block integer formats use vpdpbusd,
// which fuses the u8 x s8 products, pair sums and accumulation into one instruction.
// Layered over the AVX2 table (FillAvx2Kernels runs first); only what is faster here
// is replaced.
#define OC_X86_VNNI 1
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_k_impl.h"
#include "kernels/x86/matmul_q8_impl.h"
#include "kernels/x86/matmul_kx8_impl.h"
#include "kernels/x86/matmul_x8_impl.h"

namespace omnicoder {

void FillAvx512Kernels(KernelTable* t) {
  t->isa = "avx512";
  auto set = [t](DType type, MatMulFn fn) { t->matmul[static_cast<uint32_t>(type)].matmul = fn; };
  set(DType::kQ4_0, &Q8MatMul<Q4_0Reader>);
  set(DType::kQ4_1, &Q8MatMul<Q4_1Reader>);
  set(DType::kQ5_0, &Q8MatMul<Q5_0Reader>);
  set(DType::kQ5_1, &Q8MatMul<Q5_1Reader>);
  set(DType::kQ8_0, &Q8MatMul<Q8_0Reader>);
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
  set(DType::kQ4_K, &KMatMul<Q4KRow>);
  set(DType::kQ5_K, &KMatMul<Q5KRow>);
  set(DType::kQ6_K, &KMatMul<Q6KRow>);
}

}  // namespace omnicoder
