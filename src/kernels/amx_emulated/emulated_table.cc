// The emulated amx level's table (emulated_table.h). Compiled without ISA flags: it runs
// on every CPU and only fills the table where the emulated kernels can run.
#include "kernels/amx_emulated/emulated_table.h"

#include "base/cpu_features.h"

namespace omnicoder {

const KernelTable* GetAmxEmulatedKernelTable() {
  static const KernelTable* table = [] {
    const CpuFeatures& f = GetCpuFeatures();
    if (!IsaAvailable(Isa::kAvx512) || !f.avx512_bf16) return static_cast<KernelTable*>(nullptr);
    static KernelTable t;
    FillRefKernels(&t);
    FillAvx2Kernels(&t);
    FillAvx512Kernels(&t, DecodeForm::kWide);
    amx_emulated::FillAmxSgemm(&t);
    amx_emulated::FillAmxInt8Kernels(&t);
    t.isa = "amx-emulated";
    return &t;
  }();
  return table;
}

}  // namespace omnicoder
