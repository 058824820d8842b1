// The AMX-INT8 prefill of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and MXFP4 with every tile instruction emulated
// (tile_emulator.h): the amx/ code, for tests on CPUs without AMX.
#define OC_AMX_EMULATED 1
#include "kernels/amx/matmul_amx_impl.h"
