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

namespace {

// DecodeForm::kHalves: Q6_K decode (1-3 tokens) through the AVX2 level's interleaved
// kernel, 2.5x the VNNI one's speed there (Zen 4, kernels_bench t1: 28-31 vs 11 GMAC/s;
// the AVX2 form's code compiled in this file also ran at 10-12, for reasons not found, so
// the AVX2 file's function is called; on Zen 5 the VNNI kernel is the faster, 52-61 vs
// 44-48 GB/s at 2 threads). The sums are exact integers both ways: same bits.
MatMulFn g_q6k_x8_avx2 = nullptr;

void Q6KX8HalvesMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  if (a.n_tokens < 4) {
    g_q6k_x8_avx2(a, row_begin, row_end);
  } else {
    KX8MatMul<KX8Kind::kQ6_K>(a, row_begin, row_end);
  }
}

}  // namespace

void FillAvx512Kernels(KernelTable* t, DecodeForm form) {
  t->isa = "avx512";
  FillAvx512Sgemm(t);
  FillAvx512Attention(t);
  FillAvx512Vector(t);
  FillAvx512FloatMatMul(t, form);
  auto set = [t](DType type, MatMulFn fn) { t->matmul[static_cast<uint32_t>(type)].matmul = fn; };
  set(DType::kQ4_0, &Q8MatMul<Q4_0Reader>);
  set(DType::kQ4_1, &Q8MatMul<Q4_1Reader>);
  set(DType::kQ5_0, &Q8MatMul<Q5_0Reader>);
  set(DType::kQ5_1, &Q8MatMul<Q5_1Reader>);
  set(DType::kQ8_0, &Q8MatMul<Q8_0Reader>);
  set(DType::kMXFP4, &Q8MatMul<Mxfp4Reader>);
  MatMulKernel& q6k = t->matmul[static_cast<uint32_t>(DType::kQ6_K)];
  const MatMulFn q6k_avx2 = q6k.matmul_x8;  // FillAvx2Kernels ran first
  if (form != DecodeForm::kWide) {
    SetX86InterleavedKernels<false>(t);
    if (form == DecodeForm::kHalves && q6k_avx2) {
      g_q6k_x8_avx2 = q6k_avx2;
      q6k.matmul_x8 = &Q6KX8HalvesMatMul;
    }
  } else {
    SetX86InterleavedKernels<true>(t);
  }
  set(DType::kQ4_K, &KMatMul<Q4KRow>);
  set(DType::kQ5_K, &KMatMul<Q5KRow>);
  set(DType::kQ6_K, &KMatMul<Q6KRow>);
}

}  // namespace omnicoder
