// The AMX-BF16 sgemm with every tile instruction emulated
// (tile_emulator.h): the amx/ code, for tests on CPUs without AMX.
#define OC_AMX_EMULATED 1
#include "kernels/amx/sgemm_amx_impl.h"
