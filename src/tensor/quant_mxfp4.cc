// Reference MXFP4 quantize/dequantize (OCP Microscaling Formats v1.0: a shared power-of-two
// scale per 32 elements, each element an FP4 E2M1 code).
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/quant.h"

namespace omnicoder {

void DequantizeMXFP4(const void* src, float* dst, int64_t n) {
  const BlockMxfp4* b = static_cast<const BlockMxfp4*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = Mxfp4HalfScale(b[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[i * kQK + j] = kMxfp4Levels[b[i].qs[j] & 0x0F] * d;
      dst[i * kQK + j + kQK / 2] = kMxfp4Levels[b[i].qs[j] >> 4] * d;
    }
  }
}

namespace {

// The code whose level times d is nearest to x (first of equals).
uint8_t NearestCode(float x, float d) {
  uint8_t best = 0;
  float best_err = std::fabs(x);
  for (uint8_t c = 1; c < 16; ++c) {
    const float err = std::fabs(kMxfp4Levels[c] * d - x);
    if (err < best_err) best = c, best_err = err;
  }
  return best;
}

}  // namespace

void QuantizeMXFP4(const float* src, void* dst, int64_t n) {
  BlockMxfp4* b = static_cast<BlockMxfp4*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* x = src + i * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    // Shared exponent: floor(log2(amax)) minus E2M1's largest exponent (2), biased by 127.
    int e = amax > 0.0f ? static_cast<int>(std::floor(std::log2(amax))) - 2 + 127 : 0;
    e = e < 0 ? 0 : e > 254 ? 254 : e;
    b[i].e = static_cast<uint8_t>(e);
    const float d = Mxfp4HalfScale(b[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      b[i].qs[j] = static_cast<uint8_t>(NearestCode(x[j], d) | (NearestCode(x[j + kQK / 2], d) << 4));
    }
  }
}

}  // namespace omnicoder
