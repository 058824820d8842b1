// The AMX-INT8 prefill of Q4_K and Q5_K, on the AMX tiles (the code: matmul_amx_k_impl.h).
#include "kernels/amx/matmul_amx_k_impl.h"
