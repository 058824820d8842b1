// Reference matmul over the interleaved x8 layouts (repack.h), same arithmetic as the
// row-major reference: per block float(isum) * (d_w * d_x), summed in order.
#include "base/half.h"
#include "kernels/ref/ref.h"
#include "kernels/repack.h"
#include "tensor/blocks.h"

namespace omnicoder::ref {

namespace {

// Dot of row i (0..7) of an interleaved group with one kQ8 act row.
float DotX8(DType type, const uint8_t* group, int i, const uint8_t* xr, int n) {
  const ActQ8View x = ViewActQ8(xr, n);
  const bool q4 = type == DType::kQ4_0, fp4 = type == DType::kMXFP4;
  const size_t block = 8 * (q4 ? sizeof(BlockQ4_0) : fp4 ? sizeof(BlockMxfp4) : sizeof(BlockQ8_0));
  const size_t header = fp4 ? 8 : 16;
  const int chunks = q4 || fp4 ? 4 : 8;
  float sum = 0.0f;
  for (int b = 0; b < n / 32; ++b) {
    const uint8_t* blk = group + b * block;
    float dw;
    if (fp4) {
      dw = Mxfp4HalfScale(blk[i]);
    } else {
      uint16_t dh;
      std::memcpy(&dh, blk + 2 * i, 2);
      dw = F16ToF32(dh);
    }
    const int8_t* xq = x.qs + 32 * b;
    int isum = 0;
    for (int k = 0; k < chunks; ++k) {
      for (int j = 0; j < 4; ++j) {
        const uint8_t v = blk[header + 32 * k + 4 * i + j];
        if (q4) {
          isum += ((v & 0xF) - 8) * xq[4 * k + j] + ((v >> 4) - 8) * xq[16 + 4 * k + j];
        } else if (fp4) {
          isum += kMxfp4Levels[v & 0xF] * xq[4 * k + j] + kMxfp4Levels[v >> 4] * xq[16 + 4 * k + j];
        } else {
          isum += (static_cast<int>(v) - 128) * xq[4 * k + j];
        }
      }
    }
    sum += static_cast<float>(isum) * (dw * x.d[b]);
  }
  return sum;
}

// Q4_1, Q5_0, Q5_1: rebuild each row-major block and its one-block activation row, then
// sum the reference's per-block terms in order.
float DotX8Rebuilt(DType type, const uint8_t* group, int i, const uint8_t* xr, int n) {
  const ActQ8View x = ViewActQ8(xr, n);
  uint8_t block[sizeof(BlockQ8_0)];  // the largest 32-element block
  static_assert(sizeof(BlockQ8_0) >= sizeof(BlockQ5_1));
  alignas(64) uint8_t act[128] = {};
  const ActQ8View one = ViewActQ8(act, 32);
  float sum = 0.0f;
  for (int b = 0; b < n / 32; ++b) {
    ExtractInterleavedBlock(type, group, b, i, block);
    std::memcpy(act, x.qs + 32 * b, 32);
    std::memcpy(const_cast<float*>(one.d), x.d + b, 4);
    std::memcpy(const_cast<float*>(one.s), x.s + b, 4);
    std::memcpy(const_cast<int32_t*>(one.neg_sum4), x.neg_sum4 + 8 * b, 32);
    std::memcpy(const_cast<int32_t*>(one.sum), x.sum + b, 4);
    sum += DotRow(type, block, act, 32);
  }
  return sum;
}

// K formats: rebuild each row-major block and its one-block activation row, then sum the
// reference's per-block terms in order (the same float operations as DotRow on the row).
float DotX8K(DType type, const uint8_t* group, int i, const uint8_t* xr, int n) {
  const ActQ8KView x = ViewActQ8K(xr, n);
  uint8_t block[sizeof(BlockQ6_K)];  // the largest K block
  static_assert(sizeof(BlockQ6_K) >= sizeof(BlockQ5_K) && sizeof(BlockQ6_K) >= sizeof(BlockQ4_K));
  alignas(64) uint8_t act[320];
  float sum = 0.0f;
  for (int b = 0; b < n / 256; ++b) {
    ExtractInterleavedBlock(type, group, b, i, block);
    std::memcpy(act, x.qs + 256 * b, 256);
    std::memcpy(act + 256, x.d + b, 4);
    std::memcpy(act + 260, x.bsums + 16 * b, 32);
    sum += DotRow(type, block, act, 256);
  }
  return sum;
}

}  // namespace

void MatMulX8(DType type, const MatMulArgs& a, int row_begin, int row_end) {
  const bool k = type == DType::kQ4_K || type == DType::kQ5_K || type == DType::kQ6_K;
  const bool direct = type == DType::kQ4_0 || type == DType::kQ8_0 || type == DType::kMXFP4;
  for (int r = row_begin; r < row_end; ++r) {
    const uint8_t* group = a.w + static_cast<size_t>(r / 8) * 8 * a.w_row_bytes;
    for (int t = 0; t < a.n_tokens; ++t) {
      const uint8_t* x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
      a.y[static_cast<size_t>(t) * a.y_stride + r] = k        ? DotX8K(type, group, r % 8, x, a.in_dim)
                                                     : direct ? DotX8(type, group, r % 8, x, a.in_dim)
                                                              : DotX8Rebuilt(type, group, r % 8, x, a.in_dim);
    }
  }
}

}  // namespace omnicoder::ref
