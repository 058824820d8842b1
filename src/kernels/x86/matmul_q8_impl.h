// x86 matmul of the 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) with kQ8
// activations. Included by avx2/ (maddubs+madd) and avx512/ (OC_X86_VNNI: vpdpbusd).
//
// Design: a tile of R rows x T tokens keeps R*T float accumulators; per block each
// weight row is unpacked once and each token's activations loaded once. Every
// (row, token) pair goes through the same instruction sequence whatever the tile shape,
// so results do not depend on R, T or the row range (thread-count independence).
// Offsets (Q4_0: q-8, Q5_0: q-16) are folded into the integer accumulator's initial
// value from the activation's precomputed -sum4, costing one shift instead of a multiply.
#pragma once

#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_common.h"
#include "tensor/blocks.h"

namespace omnicoder {
namespace {

// Per-format block readers: Weights() gives 32 bytes for the u8 x s8 product.
struct Q4_0Reader {
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr int kOffsetShift = 3;  // q - 8
  static constexpr bool kHasMin = false, kSigned = false;
  static __m256i Weights(const uint8_t* b) { return UnpackNibbles(b + 2); }
  static float Min(const uint8_t*) { return 0.0f; }
  static float Scale(const uint8_t* b) { return HalfToFloat(b); }
};
struct Q4_1Reader {
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr int kOffsetShift = -1;
  static constexpr bool kHasMin = true, kSigned = false;
  static __m256i Weights(const uint8_t* b) { return UnpackNibbles(b + 4); }
  static float Min(const uint8_t* b) { return HalfToFloat(b + 2); }
  static float Scale(const uint8_t* b) { return HalfToFloat(b); }
};
struct Q5_0Reader {
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr int kOffsetShift = 4;  // q - 16
  static constexpr bool kHasMin = false, kSigned = false;
  static __m256i Weights(const uint8_t* b) {
    uint32_t qh;
    std::memcpy(&qh, b + 2, 4);
    const __m256i hi = _mm256_and_si256(BitsToBytes(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(UnpackNibbles(b + 6), hi);
  }
  static float Min(const uint8_t*) { return 0.0f; }
  static float Scale(const uint8_t* b) { return HalfToFloat(b); }
};
struct Q5_1Reader {
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr int kOffsetShift = -1;
  static constexpr bool kHasMin = true, kSigned = false;
  static __m256i Weights(const uint8_t* b) {
    uint32_t qh;
    std::memcpy(&qh, b + 4, 4);
    const __m256i hi = _mm256_and_si256(BitsToBytes(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(UnpackNibbles(b + 8), hi);
  }
  static float Min(const uint8_t* b) { return HalfToFloat(b + 2); }
  static float Scale(const uint8_t* b) { return HalfToFloat(b); }
};
struct Q8_0Reader {
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr int kOffsetShift = -1;
  static constexpr bool kHasMin = false, kSigned = true;
  static __m256i Weights(const uint8_t* b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2)); }
  static float Min(const uint8_t*) { return 0.0f; }
  static float Scale(const uint8_t* b) { return HalfToFloat(b); }
};
// MXFP4: nibbles looked up into the doubled E2M1 levels (signed bytes); the E8M0 byte
// gives half the scale.
struct Mxfp4Reader {
  static constexpr size_t kBytes = sizeof(BlockMxfp4);
  static constexpr int kOffsetShift = -1;
  static constexpr bool kHasMin = false, kSigned = true;
  static __m256i Weights(const uint8_t* b) {
    const __m256i levels = _mm256_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12, 0, 1, 2, 3, 4, 6,
                                            8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
    return _mm256_shuffle_epi8(levels, UnpackNibbles(b + 1));
  }
  static float Min(const uint8_t*) { return 0.0f; }
  static float Scale(const uint8_t* b) { return Mxfp4HalfScale(b[0]); }
};

template <class B>
inline __m256i BlockDot(__m256i w, const int8_t* xq, const int32_t* neg_sum4) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  if constexpr (B::kSigned) {  // s8 x s8 via |w| x sign(x, w)
    return DotU8S8(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  } else if constexpr (B::kOffsetShift >= 0) {
    const __m256i seed =
        _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(neg_sum4)), B::kOffsetShift);
    return DotU8S8(seed, w, x);
  } else {
    return DotU8S8(_mm256_setzero_si256(), w, x);
  }
}

template <class B, int R, int T>
__attribute__((always_inline)) inline void Q8Tile(const MatMulArgs& a, int r0) {
  const int nb = a.in_dim / 32;
  const size_t nbu = static_cast<size_t>(nb);
  const uint8_t* w0 = a.w + static_cast<size_t>(r0) * a.w_row_bytes;
  const size_t ws = a.w_row_bytes;
  const int8_t* xq = reinterpret_cast<const int8_t*>(a.x);
  const size_t xs = a.x_row_bytes;
  const float* xd = reinterpret_cast<const float*>(a.x + a.in_dim);
  const float* xsum = xd + nbu;
  const int32_t* xneg = reinterpret_cast<const int32_t*>(xsum + nbu);
  __m256 acc[R][T];
  float macc[R][T];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps(), macc[r][t] = 0.0f;
  }
  for (int b = 0; b < nb; ++b) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const uint8_t* blk = w0 + r * ws + b * B::kBytes;
      const __m256i wv = B::Weights(blk);
      const float dw = B::Scale(blk);
#pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const uint8_t* xt = reinterpret_cast<const uint8_t*>(xq) + t * xs;
        const float* dt = reinterpret_cast<const float*>(reinterpret_cast<const uint8_t*>(xd) + t * xs);
        const int32_t* nt = reinterpret_cast<const int32_t*>(reinterpret_cast<const uint8_t*>(xneg) + t * xs);
        const __m256i isum = BlockDot<B>(wv, reinterpret_cast<const int8_t*>(xt) + 32 * b, nt + 8 * b);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(dw * dt[b]), acc[r][t]);
        if constexpr (B::kHasMin) {
          const float* st = reinterpret_cast<const float*>(reinterpret_cast<const uint8_t*>(xsum) + t * xs);
          macc[r][t] += B::Min(blk) * st[b];
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) a.y[static_cast<size_t>(t) * a.y_stride + r0 + r] = Hsum(acc[r][t]) + macc[r][t];
  }
}

// One row against one token with four accumulators (blocks b % 4): the decode path,
// where a single FMA chain would be latency-bound.
template <class B>
inline float Q8RowDot(const uint8_t* w, const uint8_t* xrow, int in_dim, bool nta) {
  const ActQ8View x = ViewActQ8(xrow, in_dim);
  const int nb = in_dim / 32;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  float macc = 0.0f;
  int b = 0;
  auto step = [&](int blk_idx, __m256& a) {
    const uint8_t* blk = w + blk_idx * B::kBytes;
    const __m256i isum = BlockDot<B>(B::Weights(blk), x.qs + 32 * blk_idx, x.neg_sum4 + 8 * blk_idx);
    a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(B::Scale(blk) * x.d[blk_idx]), a);
    if constexpr (B::kHasMin) macc += B::Min(blk) * x.s[blk_idx];
  };
  for (; b + 4 <= nb; b += 4) {
    PrefetchAhead<4 * B::kBytes>(nta, w + b * B::kBytes);
    step(b, acc[0]);
    step(b + 1, acc[1]);
    step(b + 2, acc[2]);
    step(b + 3, acc[3]);
  }
  for (; b < nb; ++b) step(b, acc[b & 3]);
  return Hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) + macc;
}

// Tokens in tiles of 4 (R=2 rows x T=4 tokens, then single rows); a single token uses
// the 4-accumulator row dot. The path depends only on the token count, never on the rows.
template <class B>
void Q8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  if (a.n_tokens == 1) {
    for (int r = row_begin; r < row_end; ++r) {
      a.y[r] = Q8RowDot<B>(a.w + static_cast<size_t>(r) * a.w_row_bytes, a.x, a.in_dim, a.prefetch_nta);
    }
    return;
  }
  constexpr int kT = 4;
  const int full = a.n_tokens / kT * kT;
  MatMulArgs sub = a;
  // Row pairs outermost (their weights are read from memory once and serve every token
  // from cache): full token tiles, then the 1-3 left one token at a time.
  auto rows = [&](int r, int nr) {
    for (int t = 0; t < a.n_tokens; t += t < full ? kT : 1) {
      sub.x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
      sub.y = a.y + static_cast<size_t>(t) * a.y_stride;
      if (t < full && nr == 2) {
        Q8Tile<B, 2, kT>(sub, r);
      } else if (t < full) {
        Q8Tile<B, 1, kT>(sub, r);
      } else {
        for (int i = 0; i < nr; ++i) Q8Tile<B, 1, 1>(sub, r + i);
      }
    }
  };
  int r = row_begin;
  for (; r + 2 <= row_end; r += 2) rows(r, 2);
  if (r < row_end) rows(r, 1);
}

}  // namespace
}  // namespace omnicoder
