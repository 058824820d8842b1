// Register widths for the interleaved K-quant kernels (matmul_kx8_impl.h): KLanes8 holds
// one 8-row group in 256 bits (the AVX2 form, or VNNI's in avx512/); KLanes16 (VNNI only)
// holds a pair of groups in 512 bits, lanes 0-7 group g and 8-15 group g + 1, whose
// blocks are `pair` bytes apart. Both give each row's lane the same integer and float
// operations, so a pair's results are bitwise those of its two groups one at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/x86/matmul_x8_impl.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

struct KLanes8 {
  using I = __m256i;
  using F = __m256;
  static I Load(const uint8_t* p, size_t) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I Set1(int32_t v) { return _mm256_set1_epi32(v); }
  static I Set1Byte(char v) { return _mm256_set1_epi8(v); }
  static I Zero() { return _mm256_setzero_si256(); }
  static I And(I a, I b) { return _mm256_and_si256(a, b); }
  static I Or(I a, I b) { return _mm256_or_si256(a, b); }
  static I Srli16(I a, int n) { return _mm256_srli_epi16(a, n); }
  static I Slli16(I a, int n) { return _mm256_slli_epi16(a, n); }
  static I Srli32(I a, int n) { return _mm256_srli_epi32(a, n); }
  static I Slli32(I a, int n) { return _mm256_slli_epi32(a, n); }
  static I Srlv32(I a, I n) { return _mm256_srlv_epi32(a, n); }
  static I Add32(I a, I b) { return _mm256_add_epi32(a, b); }
  static I Mullo32(I a, I b) { return _mm256_mullo_epi32(a, b); }
  // A sub-block's u8 x s8 partial sums: int32 lanes (VNNI), or int16 pairs (AVX2: with
  // 4-bit quants 8 registers sum to at most 8 * 3,840 = 30,720, 5-bit ones 4 * 7,936).
#if defined(OC_X86_VNNI)
  static constexpr bool kInt16Sums = false;
  static I Dot(I acc, I u, I s) {
    return _mm256_dpbusd_epi32(acc, u, s);
  }
#else
  static constexpr bool kInt16Sums = true;
  static I Dot(I acc, I u, I s) {
    return _mm256_add_epi16(acc, _mm256_maddubs_epi16(u, s));
  }
#endif
  // Sub-block j's per-row scale (byte j % 4 of each lane of s[j / 4]) in the form Scaled
  // multiplies by: int32 per lane (VNNI), or in both int16 halves of the lane.
  static I SubScale(const I* s, int j);
  static I Scaled(I part, I scale) {
#if defined(OC_X86_VNNI)
    return _mm256_mullo_epi32(part, scale);
#else
    return _mm256_madd_epi16(part, scale);
#endif
  }
  static void Keep(I& v) {
    KeepChain(v);
  }
  static F HalfToFloat(const uint8_t* p, size_t) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F Set1Ps(float v) {
    return _mm256_set1_ps(v);
  }
  static F ZeroPs() {
    return _mm256_setzero_ps();
  }
  static F Cvt(I a) {
    return _mm256_cvtepi32_ps(a);
  }
  static F Mul(F a, F b) {
    return _mm256_mul_ps(a, b);
  }
  static F Fmadd(F a, F b, F c) {
    return _mm256_fmadd_ps(a, b, c);
  }
  static F Fnmadd(F a, F b, F c) {
    return _mm256_fnmadd_ps(a, b, c);
  }
  static void Store(float* y, F v) {
    _mm256_storeu_ps(y, v);
  }
};

#if defined(OC_X86_VNNI)
struct KLanes16 {
  using I = __m512i;
  using F = __m512;
  static I Load(const uint8_t* p, size_t pair) { return Load2x256(p, p + pair); }
  static I Set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I Set1Byte(char v) { return _mm512_set1_epi8(v); }
  static I Zero() { return _mm512_setzero_si512(); }
  static I And(I a, I b) { return _mm512_and_si512(a, b); }
  static I Or(I a, I b) { return _mm512_or_si512(a, b); }
  static I Srli16(I a, int n) { return _mm512_srli_epi16(a, n); }
  static I Slli16(I a, int n) { return _mm512_slli_epi16(a, n); }
  static I Srli32(I a, int n) { return _mm512_srli_epi32(a, n); }
  static I Slli32(I a, int n) { return _mm512_slli_epi32(a, n); }
  static I Srlv32(I a, I n) { return _mm512_srlv_epi32(a, n); }
  static I Add32(I a, I b) { return _mm512_add_epi32(a, b); }
  static I Mullo32(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static constexpr bool kInt16Sums = false;
  static I Dot(I acc, I u, I s) { return _mm512_dpbusd_epi32(acc, u, s); }
  static I SubScale(const I* s, int j);
  static I Scaled(I part, I scale) { return _mm512_mullo_epi32(part, scale); }
  static void Keep(I& v) { asm("" : "+v"(v)); }
  static F HalfToFloat(const uint8_t* p, size_t pair) { return X8Mins2(p, p + pair); }
  static F Set1Ps(float v) { return _mm512_set1_ps(v); }
  static F ZeroPs() { return _mm512_setzero_ps(); }
  static F Cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static F Mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F Fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F Fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static void Store(float* y, F v) { _mm512_storeu_ps(y, v); }
};
#endif

// A 32-bit value broadcast to every lane (4 activation bytes).
template <class V>
inline typename V::I Bcast4V(const void* p) {
  return V::Set1(Load4(p));
}

// Byte `k` (0..3) of each 32-bit lane, as int32.
template <class V>
inline typename V::I LaneByteV(typename V::I v, int k) {
  return V::And(V::Srlv32(v, V::Set1(8 * k)), V::Set1(0xFF));
}

inline KLanes8::I KLanes8::SubScale(const I* s, int j) {
#if defined(OC_X86_VNNI)
  return LaneByteV<KLanes8>(s[j / 4], j % 4);
#else
  const int b = j % 4;
  const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(0x80008000u) | b | (b << 16)),
                                       _mm256_setr_epi32(0, 0x40004, 0x80008, 0xc000c, 0, 0x40004, 0x80008, 0xc000c));
  return _mm256_shuffle_epi8(s[j / 4], idx);
#endif
}

#if defined(OC_X86_VNNI)
inline KLanes16::I KLanes16::SubScale(const I* s, int j) {
  return LaneByteV<KLanes16>(s[j / 4], j % 4);
}
#endif

}  // namespace
}  // namespace omnicoder
