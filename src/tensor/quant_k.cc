// Reference quantize/dequantize for the K super-block formats (Q4_K, Q5_K, Q6_K, Q8_K).
//
// Design: each sub-block gets the (scale, min) that minimizes an importance-weighted
// squared error over a small sweep of candidate grids (least-squares refit per
// candidate; quant_fit.h); the sub-block scales are then quantized to 6 (or 8) bits against the
// super-block scale and the elements re-quantized with the scales actually stored, so
// what is written is exactly what is decoded. Slow and careful; not on a hot path.
// Q8_K is the activation format of K dot products and matches the kernels bitwise.
#include <cmath>
#include <cstring>

#include "base/half.h"
#include "tensor/blocks.h"
#include "tensor/quant.h"
#include "tensor/quant_fit.h"

namespace omnicoder {

namespace {

int RoundInt(float v) {
  return static_cast<int>(std::nearbyint(v));
}
int ClampInt(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// Importance of each element: magnitude-weighted so large values are kept precisely.
void Importance(const float* x, int n, float* w) {
  float sum2 = 0.0f;
  for (int i = 0; i < n; ++i) sum2 += x[i] * x[i];
  float sigma = std::sqrt(sum2 / static_cast<float>(n));
  for (int i = 0; i < n; ++i) w[i] = sigma + std::fabs(x[i]);
}

// Packs 8 six-bit scales and mins into the 12-byte Q4_K/Q5_K layout (inverse of KScaleMin).
void PackScaleMin(const uint8_t* sc, const uint8_t* mn, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
  }
}

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fills d, dmin, scales and the levels L.
void QuantizeKAsym(const float* x, int nmax, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales, uint8_t* L) {
  float w[kQKK], sub_scale[8], sub_min[8];
  Importance(x, kQKK, w);
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    sub_scale[j] = FitAsymmetric(x + 32 * j, w + 32 * j, 32, nmax, &sub_min[j]);
    max_scale = std::fmax(max_scale, sub_scale[j]);
    max_min = std::fmax(max_min, sub_min[j]);
  }
  float d = max_scale / 63.0f, dmin = max_min / 63.0f;
  *d_out = F32ToF16(d);
  *dmin_out = F32ToF16(dmin);
  d = F16ToF32(*d_out);  // quantize against what the decoder will see
  dmin = F16ToF32(*dmin_out);
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(d > 0.0f ? ClampInt(RoundInt(sub_scale[j] / d), 0, 63) : 0);
    mn[j] = static_cast<uint8_t>(dmin > 0.0f ? ClampInt(RoundInt(sub_min[j] / dmin), 0, 63) : 0);
  }
  PackScaleMin(sc, mn, scales);
  for (int j = 0; j < 8; ++j) {
    float s = d * sc[j], m = dmin * mn[j];
    for (int i = 0; i < 32; ++i) {
      L[32 * j + i] = static_cast<uint8_t>(s > 0.0f ? ClampInt(RoundInt((x[32 * j + i] + m) / s), 0, nmax) : 0);
    }
  }
}

}  // namespace

void QuantizeQ4_K(const float* src, void* dst, int64_t n) {
  BlockQ4_K* y = static_cast<BlockQ4_K*>(dst);
  uint8_t L[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, src += kQKK) {
    QuantizeKAsym(src, 15, &y[b].d, &y[b].dmin, y[b].scales, L);
    // each 32 bytes of qs hold two sub-blocks: low nibbles the first, high the second
    for (int c = 0; c < 4; ++c) {
      for (int i = 0; i < 32; ++i) {
        y[b].qs[32 * c + i] = static_cast<uint8_t>(L[64 * c + i] | (L[64 * c + 32 + i] << 4));
      }
    }
  }
}

namespace {

// Q4_K and Q5_K share their layout but for Q5_K's high bits (qh == nullptr for Q4_K).
void DequantizeKAsymBlock(uint16_t dh, uint16_t dminh, const uint8_t* scales, const uint8_t* qh, const uint8_t* qs,
                          float* dst) {
  const float d = F16ToF32(dh), dmin = F16ToF32(dminh);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    KScaleMin(j, scales, &sc, &m);
    const uint8_t* q = qs + 32 * (j / 2);
    for (int i = 0; i < 32; ++i) {
      const int low = (j % 2 == 0) ? (q[i] & 0xF) : (q[i] >> 4);
      const int high = qh ? 16 * ((qh[i] >> j) & 1) : 0;
      *dst++ = d * sc * (low + high) - dmin * m;
    }
  }
}

}  // namespace

void DequantizeQ4_K(const void* src, float* dst, int64_t n) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b, dst += kQKK) {
    DequantizeKAsymBlock(x[b].d, x[b].dmin, x[b].scales, nullptr, x[b].qs, dst);
  }
}

void QuantizeQ5_K(const float* src, void* dst, int64_t n) {
  BlockQ5_K* y = static_cast<BlockQ5_K*>(dst);
  uint8_t L[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, src += kQKK) {
    QuantizeKAsym(src, 31, &y[b].d, &y[b].dmin, y[b].scales, L);
    std::memset(y[b].qh, 0, sizeof(y[b].qh));
    for (int c = 0; c < 4; ++c) {
      for (int i = 0; i < 32; ++i) {
        int l0 = L[64 * c + i], l1 = L[64 * c + 32 + i];
        y[b].qs[32 * c + i] = static_cast<uint8_t>((l0 & 0xF) | ((l1 & 0xF) << 4));
        if (l0 & 16) y[b].qh[i] |= static_cast<uint8_t>(1 << (2 * c));
        if (l1 & 16) y[b].qh[i] |= static_cast<uint8_t>(2 << (2 * c));
      }
    }
  }
}

void DequantizeQ5_K(const void* src, float* dst, int64_t n) {
  const BlockQ5_K* x = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b, dst += kQKK) {
    DequantizeKAsymBlock(x[b].d, x[b].dmin, x[b].scales, x[b].qh, x[b].qs, dst);
  }
}

void QuantizeQ6_K(const float* src, void* dst, int64_t n) {
  BlockQ6_K* y = static_cast<BlockQ6_K*>(dst);
  float w[kQKK], sub_scale[16];
  int8_t L[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, src += kQKK) {
    Importance(src, kQKK, w);
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 16; ++j) {
      sub_scale[j] = FitSymmetric(src + 16 * j, w + 16 * j, 16, 32);
      if (std::fabs(sub_scale[j]) > amax) {
        amax = std::fabs(sub_scale[j]);
        max = sub_scale[j];
      }
    }
    std::memset(&y[b], 0, sizeof(BlockQ6_K));
    float d = max / -128.0f;
    y[b].d = F32ToF16(d);
    d = F16ToF32(y[b].d);
    for (int j = 0; j < 16; ++j) {
      int s = d != 0.0f ? ClampInt(RoundInt(sub_scale[j] / d), -128, 127) : 0;
      y[b].scales[j] = static_cast<int8_t>(s);
      float sd = d * s;
      for (int i = 0; i < 16; ++i) {
        int l = sd != 0.0f ? ClampInt(RoundInt(src[16 * j + i] / sd), -32, 31) : 0;
        L[16 * j + i] = static_cast<int8_t>(l + 32);
      }
    }
    // per 128 half: ql holds low nibbles of (l, l+64) and (l+32, l+96); qh the 2 high bits
    for (int h = 0; h < 2; ++h) {
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      const int8_t* lv = L + 128 * h;
      for (int i = 0; i < 32; ++i) {
        // Levels are 0..63: signed or unsigned reads give the same value.
        int q1 = lv[i], q2 = lv[i + 32], q3 = lv[i + 64], q4 = lv[i + 96];  // NOLINT(bugprone-signed-char-misuse)
        ql[i] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[i + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[i] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

void DequantizeQ6_K(const void* src, float* dst, int64_t n) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    float d = F16ToF32(x[b].d);
    for (int h = 0; h < 2; ++h, dst += 128) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int i = 0; i < 32; ++i) {
        int is = i / 16;
        int q1 = ((ql[i] & 0xF) | (((qh[i] >> 0) & 3) << 4)) - 32;
        int q2 = ((ql[i + 32] & 0xF) | (((qh[i] >> 2) & 3) << 4)) - 32;
        int q3 = ((ql[i] >> 4) | (((qh[i] >> 4) & 3) << 4)) - 32;
        int q4 = ((ql[i + 32] >> 4) | (((qh[i] >> 6) & 3) << 4)) - 32;
        dst[i] = d * sc[is] * q1;
        dst[i + 32] = d * sc[is + 2] * q2;
        dst[i + 64] = d * sc[is + 4] * q3;
        dst[i + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

void QuantizeQ8_K(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b, src += kQKK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQKK; ++j) {
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) {
      int v = RoundInt(iscale * src[j]);
      y[b].qs[j] = static_cast<int8_t>(v > 127 ? 127 : v);
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

void DequantizeQ8_K(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    for (int j = 0; j < kQKK; ++j) *dst++ = x[b].d * x[b].qs[j];
  }
}

}  // namespace omnicoder
