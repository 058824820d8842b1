// The AMX-INT8 prefill of Q4_K and Q5_K with every tile instruction emulated
// (tile_emulator.h): the amx/ code, for tests on CPUs without AMX.
#define OC_AMX_EMULATED 1
#include "kernels/amx/matmul_amx_k_impl.h"
