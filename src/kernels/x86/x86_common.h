// x86 SIMD helpers shared by the avx2/ and avx512/ kernel files (included only there).
//
// Everything is in an anonymous namespace: each including translation unit gets its own
// copy compiled with its own ISA flags, so no AVX-512 code can leak into the AVX2 path
// through the linker's choice of an inline function.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace omnicoder {
namespace {

inline float HalfToFloat(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// 4 bytes at p as one int32 (unaligned).
inline int32_t Load4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline float Hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

inline float Hsum128(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

inline int HsumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// 16 packed nibbles -> 32 bytes: low nibbles (elements 0..15) then high nibbles (16..31).
inline __m256i UnpackNibbles(const uint8_t* p) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

// 32 bits -> 32 bytes, byte i = 0xFF if bit i is set.
inline __m256i BitsToBytes(uint32_t bits) {
  const __m256i shuf =
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i sel = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL);
  v = _mm256_or_si256(v, sel);
  return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

// Decode (a few tokens) is a stream of weight bytes: the kernels prefetch each row
// (group)'s blocks this far ahead, which the hardware prefetchers alone do not keep up with.
constexpr int kPrefetchTokens = 3;
constexpr int kPrefetchBytes = 4096;

// The lines of a kBytes block kPrefetchBytes past each of `blocks`, non-temporally when
// nta (MatMulArgs::prefetch_nta). Always inlined: GCC counts a prefetch as no side
// effect, so a call it chose not to inline was deleted as dead code (Q4_0 decode lost
// its prefetches when more formats instantiated this).
template <size_t kBytes, int kLocality, typename... P>
__attribute__((always_inline)) inline void PrefetchLinesAhead(P... blocks) {
  for (size_t l = 0; l < kBytes; l += 64) {
    (__builtin_prefetch(reinterpret_cast<const char*>(blocks + kPrefetchBytes + l), 0, kLocality), ...);
  }
}
template <size_t kBytes, typename... P>
__attribute__((always_inline)) inline void PrefetchAhead(bool nta, P... blocks) {
  // Locality 0 is PREFETCHNTA, 3 is PREFETCHT0.
  if (nta) {
    PrefetchLinesAhead<kBytes, 0>(blocks...);
  } else {
    PrefetchLinesAhead<kBytes, 3>(blocks...);
  }
}

// Q6_K's 6-bit levels (u8 0..63) from two registers of low nibbles and one of 2-bit
// high parts: q[0] / q[1] the low nibbles of la / lb with qh bits 0-1 / 2-3, q[2] / q[3]
// their high nibbles with qh bits 4-5 / 6-7.
__attribute__((always_inline)) inline void Q6Levels(__m256i la, __m256i lb, __m256i qh, __m256i* q) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
  const __m256i hi[4] = {qh, _mm256_srli_epi16(qh, 2), _mm256_srli_epi16(qh, 4), _mm256_srli_epi16(qh, 6)};
  const __m256i lo[4] = {la, lb, _mm256_srli_epi16(la, 4), _mm256_srli_epi16(lb, 4)};
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    q[i] = _mm256_or_si256(_mm256_and_si256(lo[i], m4), _mm256_slli_epi16(_mm256_and_si256(hi[i], m3), 4));
  }
}

// An empty asm that claims to change v: the compiler must keep an accumulator's chain of
// integer adds in order, instead of reassociating a tile's unrolled adds into trees whose
// partial sums no longer fit the 16 registers and spill (AVX2 Q4_K: 1,070 stack accesses
// in one kernel, half the speed).
__attribute__((always_inline)) inline void KeepChain(__m256i& v) {
  asm("" : "+x"(v));
}

// Sum over groups of 4 of u8 x s8 products into 8 int32 lanes, added to acc.
inline __m256i DotU8S8(__m256i acc, __m256i u, __m256i s) {
#if defined(OC_X86_VNNI)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  const __m256i p16 = _mm256_maddubs_epi16(u, s);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
#endif
}

// exp's Taylor coefficients after 1/11!, highest first (Horner): 1/10! ... 1/2, 1, 1.
constexpr double kExpTaylor[11] = {
    1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
    1.0 / 24.0,      1.0 / 6.0,      0.5,           1.0,          1.0};

// exp of 4 doubles, |error| < 1e-15 relative: Taylor series of degree 11 on
// |r| <= ln2/2 after n = round(x / ln2).
inline __m256d Exp4d(__m256d x) {
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(0.6931471805599453), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(2.3190468138462996e-17), r);
  __m256d p = _mm256_set1_pd(1.0 / 39916800.0);
#pragma GCC unroll 11
  for (const double c : kExpTaylor) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c));
  const __m128i ni = _mm256_cvtpd_epi32(n);
  const __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(ni), _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

// exp(x) for 8 floats, computed in double and rounded once: equal to a correctly rounded
// expf except in rare ties. Accuracy matters here: a last-bit difference in softmax or
// SiLU can flip the 8-bit rounding of a later activation, which shows as ~0.05 in the
// log-probs of quantized models (measured against llama.cpp).
inline __m256 Exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-103.0f)), _mm256_set1_ps(88.72f));
  const __m256d lo = Exp4d(_mm256_cvtps_pd(_mm256_castps256_ps128(x)));
  const __m256d hi = Exp4d(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
  return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

}  // namespace
}  // namespace omnicoder
