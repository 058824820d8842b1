// The amx level with every tile instruction emulated in software (tile_emulator.h): the
// avx512 level as on Intel CPUs (DecodeForm::kWide) with the amx/ kernels over it, so
// that tests run the AMX code on CPUs without AMX. Slow; not an ISA users choose.
#pragma once

#include "kernels/kernel_table.h"

namespace omnicoder {

// Null where the vector code around the tiles cannot run: not x86-64, or no AVX-512
// (F, BW, DQ, VL), VNNI or BF16.
const KernelTable* GetAmxEmulatedKernelTable();

// kernel_table.h's amx_native fills, built from the same code with emulated tiles.
namespace amx_emulated {
void FillAmxSgemm(KernelTable* t);
void FillAmxInt8Kernels(KernelTable* t);
}  // namespace amx_emulated

}  // namespace omnicoder
