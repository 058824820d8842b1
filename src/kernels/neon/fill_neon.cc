// NEON KernelTable entries.
#include "kernels/kernel_table.h"

namespace omnicoder {

void FillNeonKernels(KernelTable* t) { t->isa = "neon"; }

}  // namespace omnicoder
