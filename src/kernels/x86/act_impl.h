// x86 activation quantizers (kQ8, kQ8K): bit-identical to the scalar reference — same
// scale arithmetic, round-half-even conversion, integer group sums.
#pragma once

#include <cmath>

#include "base/half.h"
#include "kernels/act_format.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

inline __m256 Abs8(__m256 v) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

inline float Max8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// F16ToF32(F32ToF16(f)) for a finite f (both round to nearest even), in two F16C
// instructions instead of the portable bit manipulation.
inline float RoundThroughHalf(float f) {
  return _cvtsh_ss(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Rounds 32 floats (4 vectors) scaled by `scale` to int8 (half to even), stores them and
// returns the 8 per-4-group sums in int32 lanes.
inline __m256i RoundStore32(const float* x, __m256 scale, int8_t* q) {
  __m256i i[4];
  for (int k = 0; k < 4; ++k) {
    i[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), scale),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  // pack to int8 in element order (packs interleave 128-bit lanes: fix with a permute)
  const __m256i p01 = _mm256_packs_epi32(i[0], i[1]), p23 = _mm256_packs_epi32(i[2], i[3]);
  __m256i b = _mm256_packs_epi16(p01, p23);
  b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), b);
  // group-of-4 sums in element order
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), b), _mm256_set1_epi16(1));
}

void QuantizeActQ8X86(const float* x, void* dst, int n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  const int nb = n / 32;
  int8_t* qs = reinterpret_cast<int8_t*>(p);
  float* d = reinterpret_cast<float*>(p + n);
  float* s = d + nb;
  int32_t* neg_sum4 = reinterpret_cast<int32_t*>(s + nb);
  int32_t* bsum = neg_sum4 + n / 4;
  for (int b = 0; b < nb; ++b) {
    const float* xb = x + 32 * b;
    __m256 m = Abs8(_mm256_loadu_ps(xb));
    for (int k = 1; k < 4; ++k) m = _mm256_max_ps(m, Abs8(_mm256_loadu_ps(xb + 8 * k)));
    const float amax = Max8(m);
    const float db = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const __m256i g = RoundStore32(xb, _mm256_set1_ps(id), qs + 32 * b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(neg_sum4 + 8 * b), _mm256_sub_epi32(_mm256_setzero_si256(), g));
    const int sum = HsumI32(g);
    bsum[b] = sum;
    d[b] = RoundThroughHalf(db);
    s[b] = RoundThroughHalf(static_cast<float>(sum) * db);
  }
}

void QuantizeActQ8KX86(const float* x, void* dst, int n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  const int nb = n / 256;
  int8_t* qs = reinterpret_cast<int8_t*>(p);
  float* d = reinterpret_cast<float*>(p + n);
  int16_t* bsums = reinterpret_cast<int16_t*>(d + nb);
  for (int b = 0; b < nb; ++b) {
    const float* xb = x + 256 * b;
    // The signed value of largest magnitude (first one on ties, as the reference).
    float amax = 0.0f, max = 0.0f;
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 32; ++k) m = _mm256_max_ps(m, Abs8(_mm256_loadu_ps(xb + 8 * k)));
    amax = Max8(m);
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) == amax) {
        max = xb[j];
        break;
      }
    }
    int8_t* qb = qs + 256 * b;
    if (amax == 0.0f) {
      std::memset(qb, 0, 256);
      d[b] = 0.0f;
      std::memset(bsums + 16 * b, 0, 32);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int c = 0; c < 8; ++c) {
      const __m256i g = RoundStore32(xb + 32 * c, _mm256_set1_ps(iscale), qb + 32 * c);
      // 8 groups of 4 -> 2 sums of 16
      alignas(32) int32_t gs[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(gs), g);
      bsums[16 * b + 2 * c] = static_cast<int16_t>(gs[0] + gs[1] + gs[2] + gs[3]);
      bsums[16 * b + 2 * c + 1] = static_cast<int16_t>(gs[4] + gs[5] + gs[6] + gs[7]);
    }
    d[b] = 1.0f / iscale;
  }
}

}  // namespace
}  // namespace omnicoder
