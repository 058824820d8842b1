// The AMX-INT8 prefill of Q6_K with every tile instruction emulated
// (tile_emulator.h): the amx/ code, for tests on CPUs without AMX.
#define OC_AMX_EMULATED 1
#include "kernels/amx/matmul_amx_q6k_impl.h"
