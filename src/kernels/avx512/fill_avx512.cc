// AVX-512 KernelTable entries.
#include "kernels/kernel_table.h"

namespace omnicoder {

void FillAvx512Kernels(KernelTable* t) { t->isa = "avx512"; }

}  // namespace omnicoder
