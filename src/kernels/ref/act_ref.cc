// Reference activation quantizers (used by every ISA: results must be bit-identical).
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "kernels/ref/ref.h"

namespace omnicoder::ref {

void QuantizeActF32(const float* x, void* dst, int n) {
  std::memcpy(dst, x, sizeof(float) * n);
}

void QuantizeActF16(const float* x, void* dst, int n) {
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int i = 0; i < n; ++i) y[i] = F32ToF16(x[i]);
}

void QuantizeActBF16(const float* x, void* dst, int n) {
  uint16_t* y = static_cast<uint16_t*>(dst);
  for (int i = 0; i < n; ++i) y[i] = F32ToBf16(x[i]);
}

void QuantizeActQ8(const float* x, void* dst, int n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  const int nb = n / 32;
  int8_t* qs = reinterpret_cast<int8_t*>(p);
  float* d = reinterpret_cast<float*>(p + n);
  float* s = d + nb;
  int32_t* neg_sum4 = reinterpret_cast<int32_t*>(s + nb);
  int32_t* bsum = neg_sum4 + n / 4;
  for (int b = 0; b < nb; ++b) {
    const float* xb = x + 32 * b;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float db = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      int q = static_cast<int>(std::nearbyint(xb[j] * id));
      qs[32 * b + j] = static_cast<int8_t>(q);
      sum += q;
    }
    for (int g = 0; g < 8; ++g) {
      const int8_t* qg = qs + 32 * b + 4 * g;
      neg_sum4[8 * b + g] = -(qg[0] + qg[1] + qg[2] + qg[3]);
    }
    bsum[b] = sum;
    d[b] = F16ToF32(F32ToF16(db));
    s[b] = F16ToF32(F32ToF16(static_cast<float>(sum) * db));
  }
}

void QuantizeActQ8K(const float* x, void* dst, int n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  const int nb = n / 256;
  int8_t* qs = reinterpret_cast<int8_t*>(p);
  float* d = reinterpret_cast<float*>(p + n);
  int16_t* bsums = reinterpret_cast<int16_t*>(d + nb);
  for (int b = 0; b < nb; ++b) {
    const float* xb = x + 256 * b;
    int8_t* qb = qs + 256 * b;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(qb, 0, 256);
      d[b] = 0.0f;
      for (int g = 0; g < 16; ++g) bsums[16 * b + g] = 0;
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < 256; ++j) {
      int v = static_cast<int>(std::nearbyint(iscale * xb[j]));
      qb[j] = static_cast<int8_t>(v > 127 ? 127 : v);
    }
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += qb[16 * g + i];
      bsums[16 * b + g] = static_cast<int16_t>(sum);
    }
    d[b] = 1.0f / iscale;
  }
}

}  // namespace omnicoder::ref
