// Reference dot products of every weight format with its activation format.
//
// Integer parts are exact; each block contributes float(isum) * (d_w * d_x) summed in
// order. SIMD kernels compute the same integers and differ only in float summation order.
#include <cstring>

#include "base/half.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"

namespace omnicoder::ref {

namespace {

float DotF32(const uint8_t* w, const uint8_t* x, int n) {
  const float* a = reinterpret_cast<const float*>(w);
  const float* b = reinterpret_cast<const float*>(x);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float DotF16(const uint8_t* w, const uint8_t* x, int n) {
  const uint16_t* a = reinterpret_cast<const uint16_t*>(w);
  const uint16_t* b = reinterpret_cast<const uint16_t*>(x);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += F16ToF32(a[i]) * F16ToF32(b[i]);
  return sum;
}

float DotBF16(const uint8_t* w, const uint8_t* x, int n) {
  const uint16_t* a = reinterpret_cast<const uint16_t*>(w);
  const uint16_t* b = reinterpret_cast<const uint16_t*>(x);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += Bf16ToF32(a[i]) * Bf16ToF32(b[i]);
  return sum;
}

// Integer dot of 32 unsigned weight levels with 32 activation quants.
int Dot32(const int* q, const int8_t* x) {
  int s = 0;
  for (int j = 0; j < 32; ++j) s += q[j] * x[j];
  return s;
}

void Unpack4(const uint8_t* qs, int* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = qs[j] & 0xF;
    q[j + 16] = qs[j] >> 4;
  }
}

void Unpack5(const uint8_t* qs, const uint8_t* qh_bytes, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
  }
}

int BlockSum(const int8_t* x) {
  int s = 0;
  for (int j = 0; j < 32; ++j) s += x[j];
  return s;
}

float DotQ4_0(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  int q[32];
  for (int i = 0; i < n / 32; ++i) {
    Unpack4(b[i].qs, q);
    int isum = Dot32(q, x.qs + 32 * i) - 8 * BlockSum(x.qs + 32 * i);
    sum += static_cast<float>(isum) * (F16ToF32(b[i].d) * x.d[i]);
  }
  return sum;
}

float DotQ4_1(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ4_1* b = reinterpret_cast<const BlockQ4_1*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  int q[32];
  for (int i = 0; i < n / 32; ++i) {
    Unpack4(b[i].qs, q);
    int isum = Dot32(q, x.qs + 32 * i);
    sum += static_cast<float>(isum) * (F16ToF32(b[i].d) * x.d[i]) + F16ToF32(b[i].m) * x.s[i];
  }
  return sum;
}

float DotQ5_0(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ5_0* b = reinterpret_cast<const BlockQ5_0*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  int q[32];
  for (int i = 0; i < n / 32; ++i) {
    Unpack5(b[i].qs, b[i].qh, q);
    int isum = Dot32(q, x.qs + 32 * i) - 16 * BlockSum(x.qs + 32 * i);
    sum += static_cast<float>(isum) * (F16ToF32(b[i].d) * x.d[i]);
  }
  return sum;
}

float DotQ5_1(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  int q[32];
  for (int i = 0; i < n / 32; ++i) {
    Unpack5(b[i].qs, b[i].qh, q);
    int isum = Dot32(q, x.qs + 32 * i);
    sum += static_cast<float>(isum) * (F16ToF32(b[i].d) * x.d[i]) + F16ToF32(b[i].m) * x.s[i];
  }
  return sum;
}

float DotMxfp4(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockMxfp4* b = reinterpret_cast<const BlockMxfp4*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  for (int i = 0; i < n / 32; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum +=
          kMxfp4Levels[b[i].qs[j] & 0x0F] * x.qs[32 * i + j] + kMxfp4Levels[b[i].qs[j] >> 4] * x.qs[32 * i + j + 16];
    }
    sum += static_cast<float>(isum) * (Mxfp4HalfScale(b[i].e) * x.d[i]);
  }
  return sum;
}

float DotQ8_0(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(w);
  ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  for (int i = 0; i < n / 32; ++i) {
    int isum = 0;
    for (int j = 0; j < 32; ++j) isum += b[i].qs[j] * x.qs[32 * i + j];
    sum += static_cast<float>(isum) * (F16ToF32(b[i].d) * x.d[i]);
  }
  return sum;
}

// Q4_K / Q5_K: sum over 8 sub-blocks of scale_j * dot_j, minus mins against bsums.
float DotQ45K(const uint8_t* w, const uint8_t* xr, int n, bool five_bit) {
  ActQ8KView x = ViewActQ8K(xr, n);
  float sum = 0.0f;
  const size_t stride = five_bit ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  for (int i = 0; i < n / 256; ++i) {
    const uint8_t* blk = w + stride * i;
    uint16_t dh, dminh;
    std::memcpy(&dh, blk, 2);
    std::memcpy(&dminh, blk + 2, 2);
    const uint8_t* scales = blk + 4;
    const uint8_t* qh = five_bit ? blk + 16 : nullptr;
    const uint8_t* qs = five_bit ? blk + 48 : blk + 16;
    const int8_t* xq = x.qs + 256 * i;
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      KScaleMin(j, scales, &sc, &m);
      const int c = j / 2;
      int dot = 0;
      for (int l = 0; l < 32; ++l) {
        int v = (j % 2 == 0) ? (qs[32 * c + l] & 0xF) : (qs[32 * c + l] >> 4);
        if (five_bit) v += ((qh[l] >> j) & 1) << 4;
        dot += v * xq[32 * j + l];
      }
      isum += sc * dot;
      msum += m * (x.bsums[16 * i + 2 * j] + x.bsums[16 * i + 2 * j + 1]);
    }
    const float dx = x.d[i];
    sum += dx * F16ToF32(dh) * static_cast<float>(isum) - dx * F16ToF32(dminh) * static_cast<float>(msum);
  }
  return sum;
}

float DotQ6_K(const uint8_t* w, const uint8_t* xr, int n) {
  const BlockQ6_K* b = reinterpret_cast<const BlockQ6_K*>(w);
  ActQ8KView x = ViewActQ8K(xr, n);
  float sum = 0.0f;
  for (int i = 0; i < n / 256; ++i) {
    const int8_t* xq = x.qs + 256 * i;
    int isum = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      const int8_t* xh = xq + 128 * h;
      for (int g = 0; g < 4; ++g) {  // 4 groups of 32 in this half
        for (int half16 = 0; half16 < 2; ++half16) {
          int dot = 0;
          for (int l = 16 * half16; l < 16 * half16 + 16; ++l) {
            const uint8_t lbyte = ql[l + 32 * (g & 1)];
            int v = (g < 2 ? (lbyte & 0xF) : (lbyte >> 4)) | (((qh[l] >> (2 * g)) & 3) << 4);
            dot += (v - 32) * xh[32 * g + l];
          }
          isum += sc[2 * g + half16] * dot;
        }
      }
    }
    sum += x.d[i] * F16ToF32(b[i].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

float DotRow(DType type, const uint8_t* w, const uint8_t* x, int n) {
  switch (type) {
    case DType::kF32:
      return DotF32(w, x, n);
    case DType::kF16:
      return DotF16(w, x, n);
    case DType::kBF16:
      return DotBF16(w, x, n);
    case DType::kQ4_0:
      return DotQ4_0(w, x, n);
    case DType::kQ4_1:
      return DotQ4_1(w, x, n);
    case DType::kQ5_0:
      return DotQ5_0(w, x, n);
    case DType::kQ5_1:
      return DotQ5_1(w, x, n);
    case DType::kQ8_0:
      return DotQ8_0(w, x, n);
    case DType::kMXFP4:
      return DotMxfp4(w, x, n);
    case DType::kQ4_K:
      return DotQ45K(w, x, n, false);
    case DType::kQ5_K:
      return DotQ45K(w, x, n, true);
    case DType::kQ6_K:
      return DotQ6_K(w, x, n);
    default:
      return 0.0f;
  }
}

}  // namespace omnicoder::ref
