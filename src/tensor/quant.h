// Reference (scalar) quantize/dequantize of one row for every DType; n is a multiple of
// the type's block size. These are the oracle the SIMD kernels are tested against.
#pragma once

#include <cstdint>

namespace omnicoder {

#define OC_DECLARE_QUANT(T)                                 \
  void Quantize##T(const float* src, void* dst, int64_t n); \
  void Dequantize##T(const void* src, float* dst, int64_t n);

OC_DECLARE_QUANT(F32)
OC_DECLARE_QUANT(F16)
OC_DECLARE_QUANT(BF16)
OC_DECLARE_QUANT(Q4_0)
OC_DECLARE_QUANT(Q4_1)
OC_DECLARE_QUANT(Q5_0)
OC_DECLARE_QUANT(Q5_1)
OC_DECLARE_QUANT(Q8_0)
OC_DECLARE_QUANT(Q8_1)
OC_DECLARE_QUANT(Q4_K)
OC_DECLARE_QUANT(Q5_K)
OC_DECLARE_QUANT(Q6_K)
OC_DECLARE_QUANT(Q8_K)
OC_DECLARE_QUANT(MXFP4)

#undef OC_DECLARE_QUANT

}  // namespace omnicoder
