// NEON matmuls of the quantized formats using SDOT (ARMv8.2 dotprod): 32-element blocks
// row-major and 8-row interleaved, K formats row-major. Compiled with +dotprod; only
// installed when the CPU reports it (vec_neon.cc).
//
// Integer sums are exact and per block float(isum) * (d_w * d_x) is accumulated in order,
// so a row's result never depends on the row range.
#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/neon/neon_common.h"
#include "tensor/blocks.h"

namespace omnicoder {

namespace {

// 32 weight levels as two int8x16 (elements 0..15, 16..31), offset already removed.
struct Block32 {
  int8x16_t lo, hi;
};

inline Block32 Nibbles(const uint8_t* qs, int offset) {
  const uint8x16_t q = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(static_cast<int8_t>(offset));
  return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), off),
          vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), off)};
}

inline Block32 Fives(const uint8_t* qs, const uint8_t* qh_bytes, int offset) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  uint8_t hb[32];
  for (int j = 0; j < 32; ++j) hb[j] = static_cast<uint8_t>(((qh >> j) & 1) << 4);
  const uint8x16_t q = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(static_cast<int8_t>(offset));
  const uint8x16_t lo = vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), vld1q_u8(hb));
  const uint8x16_t hi = vorrq_u8(vshrq_n_u8(q, 4), vld1q_u8(hb + 16));
  return {vsubq_s8(vreinterpretq_s8_u8(lo), off), vsubq_s8(vreinterpretq_s8_u8(hi), off)};
}

inline int Dot32(const Block32& w, const int8_t* x) {
  int32x4_t acc = vdotq_s32(vdupq_n_s32(0), w.lo, vld1q_s8(x));
  acc = vdotq_s32(acc, w.hi, vld1q_s8(x + 16));
  return vaddvq_s32(acc);
}

template <DType kType>
float RowDot(const uint8_t* w, const uint8_t* xr, int n) {
  const ActQ8View x = ViewActQ8(xr, n);
  float sum = 0.0f;
  for (int b = 0; b < n / 32; ++b) {
    const int8_t* xq = x.qs + 32 * b;
    if constexpr (kType == DType::kQ4_0) {
      const BlockQ4_0& k = reinterpret_cast<const BlockQ4_0*>(w)[b];
      sum += static_cast<float>(Dot32(Nibbles(k.qs, 8), xq)) * (F16ToF32(k.d) * x.d[b]);
    } else if constexpr (kType == DType::kQ4_1) {
      const BlockQ4_1& k = reinterpret_cast<const BlockQ4_1*>(w)[b];
      sum += static_cast<float>(Dot32(Nibbles(k.qs, 0), xq)) * (F16ToF32(k.d) * x.d[b]) + F16ToF32(k.m) * x.s[b];
    } else if constexpr (kType == DType::kQ5_0) {
      const BlockQ5_0& k = reinterpret_cast<const BlockQ5_0*>(w)[b];
      sum += static_cast<float>(Dot32(Fives(k.qs, k.qh, 16), xq)) * (F16ToF32(k.d) * x.d[b]);
    } else if constexpr (kType == DType::kQ5_1) {
      const BlockQ5_1& k = reinterpret_cast<const BlockQ5_1*>(w)[b];
      sum += static_cast<float>(Dot32(Fives(k.qs, k.qh, 0), xq)) * (F16ToF32(k.d) * x.d[b]) + F16ToF32(k.m) * x.s[b];
    } else if constexpr (kType == DType::kMXFP4) {
      const BlockMxfp4& k = reinterpret_cast<const BlockMxfp4*>(w)[b];
      const int8x16_t levels = vld1q_s8(kMxfp4Levels);
      const uint8x16_t q = vld1q_u8(k.qs);
      const Block32 v{vqtbl1q_s8(levels, vandq_u8(q, vdupq_n_u8(0x0F))), vqtbl1q_s8(levels, vshrq_n_u8(q, 4))};
      sum += static_cast<float>(Dot32(v, xq)) * (Mxfp4HalfScale(k.e) * x.d[b]);
    } else {
      const BlockQ8_0& k = reinterpret_cast<const BlockQ8_0*>(w)[b];
      const Block32 q{vld1q_s8(k.qs), vld1q_s8(k.qs + 16)};
      sum += static_cast<float>(Dot32(q, xq)) * (F16ToF32(k.d) * x.d[b]);
    }
  }
  return sum;
}

// Q4_K / Q5_K: per sub-block j, scale_j * dot - min_j * bsum pair.
template <bool kFive>
float RowDotQ45K(const uint8_t* w, const uint8_t* xr, int n) {
  const ActQ8KView x = ViewActQ8K(xr, n);
  constexpr size_t kBytes = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  float sum = 0.0f;
  for (int b = 0; b < n / 256; ++b) {
    const uint8_t* blk = w + b * kBytes;
    const uint8_t* qh = blk + 16;
    const uint8_t* qs = kFive ? blk + 48 : blk + 16;
    int isum = 0, msum = 0;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      KScaleMin(2 * c, blk + 4, &sc0, &m0);
      KScaleMin(2 * c + 1, blk + 4, &sc1, &m1);
      const uint8x16_t q0 = vld1q_u8(qs + 32 * c), q1 = vld1q_u8(qs + 32 * c + 16);
      uint8x16_t l0 = vandq_u8(q0, vdupq_n_u8(0x0F)), l1 = vandq_u8(q1, vdupq_n_u8(0x0F));
      uint8x16_t h0 = vshrq_n_u8(q0, 4), h1 = vshrq_n_u8(q1, 4);
      if constexpr (kFive) {
        const uint8x16_t b0 = vld1q_u8(qh), b1 = vld1q_u8(qh + 16);
        const uint8x16_t one = vdupq_n_u8(1);
        l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(vshlq_u8(b0, vdupq_n_s8(static_cast<int8_t>(-2 * c))), one), 4));
        l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(vshlq_u8(b1, vdupq_n_s8(static_cast<int8_t>(-2 * c))), one), 4));
        h0 = vorrq_u8(h0, vshlq_n_u8(vandq_u8(vshlq_u8(b0, vdupq_n_s8(static_cast<int8_t>(-2 * c - 1))), one), 4));
        h1 = vorrq_u8(h1, vshlq_n_u8(vandq_u8(vshlq_u8(b1, vdupq_n_s8(static_cast<int8_t>(-2 * c - 1))), one), 4));
      }
      const int8_t* xq = x.qs + 256 * b + 64 * c;
      const int dl = vaddvq_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(l0), vld1q_s8(xq)),
                                          vreinterpretq_s8_u8(l1), vld1q_s8(xq + 16)));
      const int dh = vaddvq_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(h0), vld1q_s8(xq + 32)),
                                          vreinterpretq_s8_u8(h1), vld1q_s8(xq + 48)));
      isum += sc0 * dl + sc1 * dh;
      const int16_t* bs = x.bsums + 16 * b + 4 * c;
      msum += m0 * (bs[0] + bs[1]) + m1 * (bs[2] + bs[3]);
    }
    const float dx = x.d[b];
    sum += dx * HalfAt(blk) * static_cast<float>(isum) - dx * HalfAt(blk + 2) * static_cast<float>(msum);
  }
  return sum;
}

float RowDotQ6K(const uint8_t* w, const uint8_t* xr, int n) {
  const ActQ8KView x = ViewActQ8K(xr, n);
  const BlockQ6_K* blk = reinterpret_cast<const BlockQ6_K*>(w);
  float sum = 0.0f;
  for (int b = 0; b < n / 256; ++b) {
    int isum = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk[b].ql + 64 * h;
      const uint8_t* qh = blk[b].qh + 32 * h;
      for (int half16 = 0; half16 < 2; ++half16) {
        const int o = 16 * half16;
        const uint8x16_t la = vld1q_u8(ql + o), lb = vld1q_u8(ql + 32 + o), hb = vld1q_u8(qh + o);
        const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
        const uint8x16_t q[4] = {
            vorrq_u8(vandq_u8(la, m4), vshlq_n_u8(vandq_u8(hb, m3), 4)),
            vorrq_u8(vandq_u8(lb, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4)),
            vorrq_u8(vshrq_n_u8(la, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4)),
            vorrq_u8(vshrq_n_u8(lb, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4)),
        };
        for (int g = 0; g < 4; ++g) {
          const int8x16_t v = vsubq_s8(vreinterpretq_s8_u8(q[g]), vdupq_n_s8(32));
          const int8_t* xq = x.qs + 256 * b + 128 * h + 32 * g + o;
          const int d = vaddvq_s32(vdotq_s32(vdupq_n_s32(0), v, vld1q_s8(xq)));
          isum += blk[b].scales[8 * h + 2 * g + half16] * d;
        }
      }
    }
    sum += x.d[b] * F16ToF32(blk[b].d) * static_cast<float>(isum);
  }
  return sum;
}

template <float (*kDot)(const uint8_t*, const uint8_t*, int)>
void RowMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const uint8_t* w = a.w + static_cast<size_t>(r) * a.w_row_bytes;
    for (int t = 0; t < a.n_tokens; ++t) {
      a.y[static_cast<size_t>(t) * a.y_stride + r] = kDot(w, a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
    }
  }
}

// 8-row interleaved Q4_0 / Q8_0 (repack.h): lanes are rows (rows 0-3 and 4-7).
template <bool kQ4>
void X8MatMulNeon(const MatMulArgs& a, int row_begin, int row_end) {
  constexpr size_t kBlock = kQ4 ? 144 : 272;
  const int nb = a.in_dim / 32;
  for (int g = row_begin / 8; g < row_end / 8; ++g) {
    const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
    for (int t = 0; t < a.n_tokens; ++t) {
      const ActQ8View x = ViewActQ8(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
      float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
      for (int b = 0; b < nb; ++b) {
        const uint8_t* blk = base + b * kBlock;
        int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0);
        const int8_t* xq = x.qs + 32 * b;
        for (int k = 0; k < (kQ4 ? 4 : 8); ++k) {
          const uint8x16_t w0 = vld1q_u8(blk + 16 + 32 * k), w1 = vld1q_u8(blk + 32 + 32 * k);
          int32_t xv;
          if constexpr (kQ4) {
            std::memcpy(&xv, xq + 4 * k, 4);
            const int8x16_t xl = vreinterpretq_s8_s32(vdupq_n_s32(xv));
            std::memcpy(&xv, xq + 16 + 4 * k, 4);
            const int8x16_t xh = vreinterpretq_s8_s32(vdupq_n_s32(xv));
            const int8x16_t e = vdupq_n_s8(8);
            s0 = vdotq_s32(s0, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(w0, vdupq_n_u8(0x0F))), e), xl);
            s1 = vdotq_s32(s1, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(w1, vdupq_n_u8(0x0F))), e), xl);
            s0 = vdotq_s32(s0, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(w0, 4)), e), xh);
            s1 = vdotq_s32(s1, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(w1, 4)), e), xh);
          } else {
            std::memcpy(&xv, xq + 4 * k, 4);
            const int8x16_t xb = vreinterpretq_s8_s32(vdupq_n_s32(xv));
            const uint8x16_t flip = vdupq_n_u8(0x80);
            s0 = vdotq_s32(s0, vreinterpretq_s8_u8(veorq_u8(w0, flip)), xb);
            s1 = vdotq_s32(s1, vreinterpretq_s8_u8(veorq_u8(w1, flip)), xb);
          }
        }
        float dw[8];
        for (int i = 0; i < 8; ++i) dw[i] = HalfAt(blk + 2 * i) * x.d[b];
        acc0 = vaddq_f32(acc0, vmulq_f32(vcvtq_f32_s32(s0), vld1q_f32(dw)));
        acc1 = vaddq_f32(acc1, vmulq_f32(vcvtq_f32_s32(s1), vld1q_f32(dw + 4)));
      }
      float* y = a.y + static_cast<size_t>(t) * a.y_stride + 8 * g;
      vst1q_f32(y, acc0);
      vst1q_f32(y + 4, acc1);
    }
  }
}

}  // namespace

void FillNeonDotprodKernels(KernelTable* t) {
  auto set = [t](DType type, MatMulFn fn) { t->matmul[static_cast<uint32_t>(type)].matmul = fn; };
  set(DType::kQ4_0, &RowMatMul<&RowDot<DType::kQ4_0>>);
  set(DType::kQ4_1, &RowMatMul<&RowDot<DType::kQ4_1>>);
  set(DType::kQ5_0, &RowMatMul<&RowDot<DType::kQ5_0>>);
  set(DType::kQ5_1, &RowMatMul<&RowDot<DType::kQ5_1>>);
  set(DType::kQ8_0, &RowMatMul<&RowDot<DType::kQ8_0>>);
  set(DType::kMXFP4, &RowMatMul<&RowDot<DType::kMXFP4>>);
  set(DType::kQ4_K, &RowMatMul<&RowDotQ45K<false>>);
  set(DType::kQ5_K, &RowMatMul<&RowDotQ45K<true>>);
  set(DType::kQ6_K, &RowMatMul<&RowDotQ6K>);
  t->matmul[static_cast<uint32_t>(DType::kQ4_0)].matmul_x8 = &X8MatMulNeon<true>;
  t->matmul[static_cast<uint32_t>(DType::kQ8_0)].matmul_x8 = &X8MatMulNeon<false>;
  t->matmul[static_cast<uint32_t>(DType::kQ4_0)].prefer_x8 = true;
  t->matmul[static_cast<uint32_t>(DType::kQ8_0)].prefer_x8 = true;
}

}  // namespace omnicoder
