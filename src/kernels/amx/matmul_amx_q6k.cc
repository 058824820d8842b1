// The AMX-INT8 prefill of Q6_K, on the AMX tiles (the code: matmul_amx_q6k_impl.h).
#include "kernels/amx/matmul_amx_q6k_impl.h"
