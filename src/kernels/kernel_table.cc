// Builds the KernelTable for each ISA level once, layering each level over the one below.
#include "kernels/kernel_table.h"

#include "base/cpu_features.h"

namespace omnicoder {

#if !defined(OC_KERNELS_X86)
void FillAvx2Kernels(KernelTable*) {}
void FillAvx512Kernels(KernelTable*) {}
#endif
#if !defined(OC_KERNELS_ARM64)
void FillNeonKernels(KernelTable*) {}
#endif

bool IsaAvailable(IsaLevel level) {
  const CpuFeatures& f = GetCpuFeatures();
  switch (level) {
    case IsaLevel::kRef: return true;
#if defined(OC_KERNELS_X86)
    case IsaLevel::kAvx2: return f.avx2;
    case IsaLevel::kAvx512: return f.avx512 && f.avx512_vnni;
#endif
#if defined(OC_KERNELS_ARM64)
    case IsaLevel::kNeon: return f.neon;
#endif
    case IsaLevel::kBest: return true;
    default: return false;
  }
}

namespace {

KernelTable Build(IsaLevel level) {
  KernelTable t;
  FillRefKernels(&t);
  if (level == IsaLevel::kRef) return t;
  if (IsaAvailable(IsaLevel::kAvx2)) FillAvx2Kernels(&t);
  if (level == IsaLevel::kAvx2) return t;
  if (IsaAvailable(IsaLevel::kAvx512)) FillAvx512Kernels(&t);
#if defined(OC_KERNELS_X86)
  if (GetCpuFeatures().amx_bf16) FillAmxSgemm(&t);
#endif
  if (IsaAvailable(IsaLevel::kNeon)) FillNeonKernels(&t);
  return t;
}

}  // namespace

const KernelTable& GetKernelTable(IsaLevel level) {
  static const KernelTable ref_table = Build(IsaLevel::kRef);
  static const KernelTable avx2_table = Build(IsaLevel::kAvx2);
  static const KernelTable best_table = Build(IsaLevel::kBest);
  switch (level) {
    case IsaLevel::kRef: return ref_table;
    case IsaLevel::kAvx2: return avx2_table;
    default: return best_table;
  }
}

}  // namespace omnicoder
