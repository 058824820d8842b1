// AVX2 KernelTable entries.
#include "kernels/kernel_table.h"

namespace omnicoder {

void FillAvx2Kernels(KernelTable* t) { t->isa = "avx2"; }

}  // namespace omnicoder
