// The AMX-BF16 sgemm, on the AMX tiles (the code: sgemm_amx_impl.h).
#include "kernels/amx/sgemm_amx_impl.h"
