// The AMX-INT8 prefill of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and MXFP4, on the AMX tiles (the code: matmul_amx_impl.h).
#include "kernels/amx/matmul_amx_impl.h"
