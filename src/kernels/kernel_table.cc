// Builds the KernelTable for each ISA level once, layering each level over the one below.
#include "kernels/kernel_table.h"

#include "base/cpu_features.h"

namespace omnicoder {

#if !defined(OC_KERNELS_X86)
void FillAvx2Kernels(KernelTable*) {}
void FillAvx512Kernels(KernelTable*, DecodeForm) {}
void FillAvx512FloatMatMul(KernelTable*, DecodeForm) {}
#endif
#if !defined(OC_KERNELS_ARM64)
void FillNeonKernels(KernelTable*) {}
#endif

bool IsaAvailable(Isa level) {
  const CpuFeatures& f = GetCpuFeatures();
  switch (level) {
    case Isa::kRef:
      return true;
#if defined(OC_KERNELS_X86)
    case Isa::kAvx2:
      return f.avx2;
    case Isa::kAvx512:
      return f.avx512 && f.avx512_vnni;
    case Isa::kAmx:
      return f.avx512 && f.avx512_vnni && f.amx_int8;
#endif
#if defined(OC_KERNELS_ARM64)
    case Isa::kNeon:
      return f.neon;
#endif
    case Isa::kAuto:
      return true;
    default:
      return false;
  }
}

DecodeForm DecodeFormFor(const CpuFeatures& f) {
  if (f.zmm_halves) return DecodeForm::kHalves;
  return f.narrow_decode ? DecodeForm::kNarrow : DecodeForm::kWide;
}

namespace {

KernelTable Build(Isa level) {
  KernelTable t;
  FillRefKernels(&t);
  if (level == Isa::kRef) return t;
  if (IsaAvailable(Isa::kAvx2)) {
    FillAvx2Kernels(&t);
    t.decode_prefetch_nta = GetCpuFeatures().stream_nta;
  }
  if (level == Isa::kAvx2) return t;
  if (IsaAvailable(Isa::kAvx512)) FillAvx512Kernels(&t, DecodeFormFor(GetCpuFeatures()));
#if defined(OC_KERNELS_X86)
  if (GetCpuFeatures().amx_bf16) amx_native::FillAmxSgemm(&t);
  if (level == Isa::kAvx512) return t;
  if (IsaAvailable(Isa::kAmx)) amx_native::FillAmxInt8Kernels(&t);
#endif
  if (IsaAvailable(Isa::kNeon)) FillNeonKernels(&t);
  return t;
}

}  // namespace

const KernelTable& GetKernelTable(Isa level) {
  static const KernelTable ref_table = Build(Isa::kRef);
  static const KernelTable avx2_table = Build(Isa::kAvx2);
  static const KernelTable avx512_table = Build(Isa::kAvx512);
  static const KernelTable best_table = Build(Isa::kAuto);
  switch (level) {
    case Isa::kRef:
      return ref_table;
    case Isa::kAvx2:
      return avx2_table;
    case Isa::kAvx512:
      return avx512_table;
    default:
      return best_table;
  }
}

}  // namespace omnicoder
