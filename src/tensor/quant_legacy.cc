// Reference quantize/dequantize for the float types and the 32-element block formats.
//
// The activation formats (Q8_0, Q8_1) round half to even (nearbyint), which is what the
// SIMD kernels' round instructions do, so scalar and vector paths agree bitwise.
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "tensor/blocks.h"
#include "tensor/quant.h"

namespace omnicoder {

void DequantizeF32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}
void QuantizeF32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}

void DequantizeF16(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = F16ToF32(h[i]);
}
void QuantizeF16(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = F32ToF16(src[i]);
}
void DequantizeBF16(const void* src, float* dst, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(h[i]);
}
void QuantizeBF16(const float* src, void* dst, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = F32ToBf16(src[i]);
}

namespace {

// Element of largest magnitude, keeping its sign (the symmetric formats map it to -max_level).
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, int n, float* lo, float* hi) {
  *lo = x[0];
  *hi = x[0];
  for (int j = 1; j < n; ++j) {
    if (x[j] < *lo) *lo = x[j];
    if (x[j] > *hi) *hi = x[j];
  }
}

int ClampInt(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

}  // namespace

void QuantizeQ4_0(const float* src, void* dst, int64_t n) {
  BlockQ4_0* y = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    // symmetric, 16 levels [-8, 7]: the largest-magnitude value maps to -8 exactly
    float d = SignedAbsMax(src, kQK) / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      int lo = ClampInt(static_cast<int>(std::floor(src[j] * id + 8.5f)), 0, 15);
      int hi = ClampInt(static_cast<int>(std::floor(src[j + kQK / 2] * id + 8.5f)), 0, 15);
      y[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeQ4_0(const void* src, float* dst, int64_t n) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>((x[b].qs[j] & 0xF) - 8) * d;
      dst[j + kQK / 2] = static_cast<float>((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void QuantizeQ4_1(const float* src, void* dst, int64_t n) {
  BlockQ4_1* y = static_cast<BlockQ4_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float lo, hi;
    MinMax(src, kQK, &lo, &hi);
    float d = (hi - lo) / 15.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    y[b].m = F32ToF16(lo);
    for (int j = 0; j < kQK / 2; ++j) {
      // x + 0.5 truncated, exactly as ggml rounds here (files must match llama-quantize's).
      // NOLINTNEXTLINE(bugprone-incorrect-roundings)
      int q0 = ClampInt(static_cast<int>((src[j] - lo) * id + 0.5f), 0, 15);
      // NOLINTNEXTLINE(bugprone-incorrect-roundings)
      int q1 = ClampInt(static_cast<int>((src[j + kQK / 2] - lo) * id + 0.5f), 0, 15);
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void DequantizeQ4_1(const void* src, float* dst, int64_t n) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d), m = F16ToF32(x[b].m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = static_cast<float>(x[b].qs[j] & 0xF) * d + m;
      dst[j + kQK / 2] = static_cast<float>(x[b].qs[j] >> 4) * d + m;
    }
  }
}

namespace {

// Packs 32 5-bit values: low nibbles in qs (j | j+16 << 4), fifth bits in the 32-bit qh.
void Pack5(const int* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kQK / 2] & 0xF) << 4));
    qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    qh |= static_cast<uint32_t>((q[j + kQK / 2] >> 4) & 1) << (j + kQK / 2);
  }
  std::memcpy(qh_bytes, &qh, 4);
}

void Unpack5(const uint8_t* qs, const uint8_t* qh_bytes, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kQK / 2)) & 1) << 4);
  }
}

}  // namespace

void QuantizeQ5_0(const float* src, void* dst, int64_t n) {
  BlockQ5_0* y = static_cast<BlockQ5_0*>(dst);
  int q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float d = SignedAbsMax(src, kQK) / -16.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) q[j] = ClampInt(static_cast<int>(std::floor(src[j] * id + 16.5f)), 0, 31);
    Pack5(q, y[b].qs, y[b].qh);
  }
}

void DequantizeQ5_0(const void* src, float* dst, int64_t n) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(src);
  int q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d);
    Unpack5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(q[j] - 16) * d;
  }
}

void QuantizeQ5_1(const float* src, void* dst, int64_t n) {
  BlockQ5_1* y = static_cast<BlockQ5_1*>(dst);
  int q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float lo, hi;
    MinMax(src, kQK, &lo, &hi);
    float d = (hi - lo) / 31.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = F32ToF16(d);
    y[b].m = F32ToF16(lo);
    for (int j = 0; j < kQK; ++j) {
      // NOLINTNEXTLINE(bugprone-incorrect-roundings): truncated x + 0.5, as ggml
      q[j] = ClampInt(static_cast<int>((src[j] - lo) * id + 0.5f), 0, 31);
    }
    Pack5(q, y[b].qs, y[b].qh);
  }
}

void DequantizeQ5_1(const void* src, float* dst, int64_t n) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(src);
  int q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d), m = F16ToF32(x[b].m);
    Unpack5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(q[j]) * d + m;
  }
}

void QuantizeQ8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    float d = amax / 127.0f;
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = F32ToF16(d);
    for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(std::nearbyint(src[j] * id));
  }
}

void DequantizeQ8_0(const void* src, float* dst, int64_t n) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(x[b].qs[j]) * d;
  }
}

void QuantizeQ8_1(const float* src, void* dst, int64_t n) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    float d = amax / 127.0f;
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::nearbyint(src[j] * id));
      sum += y[b].qs[j];
    }
    y[b].d = F32ToF16(d);
    y[b].s = F32ToF16(static_cast<float>(sum) * d);
  }
}

void DequantizeQ8_1(const void* src, float* dst, int64_t n) {
  const BlockQ8_1* x = static_cast<const BlockQ8_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    float d = F16ToF32(x[b].d);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(x[b].qs[j]) * d;
  }
}

}  // namespace omnicoder
