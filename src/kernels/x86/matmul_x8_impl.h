// x86 matmul over 8-row interleaved Q4_0 / Q8_0 / MXFP4 weights (repack.h) with kQ8
// activations. Included by avx2/ and avx512/ (OC_X86_VNNI).
//
// Each 32-bit lane of the integer accumulator is one row: a chunk register holds 4 quant
// bytes of each of the 8 rows, multiplied by the same 4 activation bytes broadcast to
// every lane. The offset (Q4_0: 8, Q8_0 stored +128: 128, MXFP4 levels looked up +12:
// 12) times the block's activation sum seeds the accumulator. Per row the float sum runs over blocks in order, like the
// reference, and T tokens share one weight unpack (prefill).
#pragma once

#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

inline __m256i Bcast4(const void* p) {
  return _mm256_set1_epi32(Load4(p));
}

// Without VNNI, u8 (q + 128) x s8 pairs would saturate maddubs' 16-bit sums: Q8_0 is
// turned back into s8 and multiplied as |w| x sign(x, w) instead (then no offset seed).
#if defined(OC_X86_VNNI)
constexpr bool kQ8Signed = false;
#else
constexpr bool kQ8Signed = true;
#endif

inline __m256i DotS8S8(__m256i acc, __m256i w, __m256i x) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

enum class X8Kind { kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kMxfp4 };

// Per-format constants: bytes of an 8-row block group, of its header, quant chunks of 32
// bytes, whether quants are nibbles, the offset folded into the seed, where the 8 f16
// mins (Q4_1, Q5_1) and the high-bit words (Q5_0, Q5_1; repack.h's order) are.
template <X8Kind K>
struct X8Fmt {
  static constexpr bool kNibbles = K != X8Kind::kQ8_0;
  static constexpr int kChunks = kNibbles ? 4 : 8;
  static constexpr bool kHasMin = K == X8Kind::kQ4_1 || K == X8Kind::kQ5_1;
  static constexpr bool kFive = K == X8Kind::kQ5_0 || K == X8Kind::kQ5_1;
  static constexpr size_t kMin = 16;
  static constexpr size_t kHigh = kHasMin ? 32 : 16;
  static constexpr size_t kHeader = K == X8Kind::kMxfp4 ? 8 : 16 + (kHasMin ? 16 : 0) + (kFive ? 32 : 0);
  static constexpr size_t kBlock = kHeader + 32 * kChunks;
  static constexpr int kOffset = K == X8Kind::kQ4_0    ? 8
                                 : K == X8Kind::kQ5_0  ? 16
                                 : K == X8Kind::kQ8_0  ? 128
                                 : K == X8Kind::kMxfp4 ? 12
                                                       : 0;
};

// Q5 fifth bits of chunk k: byte j of the high-bit word has chunk k's low-nibble bit at
// bit k and its high-nibble bit at bit 4 + k (repack.h); each goes to bit 4 of its byte
// (16-bit shifts: bit 4 of a byte only receives bits of that byte for shifts <= 4).
inline void AddFifthBits(__m256i h, int k, __m256i* lo, __m256i* hi) {
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  *lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_slli_epi16(h, 4 - k), bit4));
  *hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_srli_epi16(h, k), bit4));
}

// MXFP4 codes -> doubled E2M1 levels + 12 (0..24, unsigned for the u8 x s8 products).
inline __m256i Mxfp4Levels12x2() {
  return _mm256_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0, 12, 13, 14, 15, 16, 18, 20, 24, 12,
                          11, 10, 9, 8, 6, 4, 0);
}

// 8 E8M0 bytes -> their half scales 2^(e-128) as floats (Mxfp4HalfScale, exact).
inline __m256 Mxfp4HalfScales(__m256i e) {
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), 23);
  const __m256i sub = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
  return _mm256_castsi256_ps(_mm256_blendv_epi8(sub, normal, _mm256_cmpgt_epi32(e, _mm256_set1_epi32(1))));
}

// The 8 rows' scales of a block group as floats.
template <X8Kind K>
inline __m256 X8Scales(const uint8_t* blk) {
  if constexpr (K == X8Kind::kMxfp4) {
    return Mxfp4HalfScales(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk))));
  } else {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  }
}

// Element index of the first of the 4 activation bytes that weight register k multiplies:
// nibble formats hold elements 4k.. (k < 4) and 16 + 4(k - 4).. (k >= 4); Q8_0 4k...
template <X8Kind K>
constexpr int X8Elem(int k) {
  return X8Fmt<K>::kNibbles ? (k < 4 ? 4 * k : 16 + 4 * (k - 4)) : 4 * k;
}

// A block group's quants as 8 registers of u8 levels (s8 for Q8_0 without VNNI).
template <X8Kind K>
__attribute__((always_inline)) inline void X8Unpack(const uint8_t* blk, __m256i* w) {
  using F = X8Fmt<K>;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
#pragma GCC unroll 8
  for (int k = 0; k < F::kChunks; ++k) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + F::kHeader + 32 * k));
    if constexpr (F::kNibbles) {
      w[k] = _mm256_and_si256(v, m4);
      w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      if constexpr (F::kFive) {
        AddFifthBits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + F::kHigh)), k, &w[k], &w[k + 4]);
      }
      if constexpr (K == X8Kind::kMxfp4) {
        w[k] = _mm256_shuffle_epi8(Mxfp4Levels12x2(), w[k]);
        w[k + 4] = _mm256_shuffle_epi8(Mxfp4Levels12x2(), w[k + 4]);
      }
    } else if constexpr (K == X8Kind::kQ8_0 && kQ8Signed) {
      w[k] = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));
    } else {
      w[k] = v;
    }
  }
}

template <X8Kind K, int T>
__attribute__((always_inline)) inline void X8Group(const MatMulArgs& a, int g) {
  using F = X8Fmt<K>;
  constexpr int kVecs = 8;  // weight registers per block: nibbles lo/hi of 4 chunks, Q8 8 chunks
  constexpr bool kSignedQ8 = K == X8Kind::kQ8_0 && kQ8Signed;
  const int nb = a.in_dim / 32;
  const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
  ActQ8View x[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + b * F::kBlock;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<F::kBlock>(a.prefetch_nta, blk);
    const __m256 dw = X8Scales<K>(blk);
    __m256i w[kVecs];
    X8Unpack<K>(blk, w);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const int8_t* xq = x[t].qs + 32 * b;
      __m256i s0 = kSignedQ8 ? _mm256_setzero_si256() : _mm256_set1_epi32(-x[t].sum[b] * F::kOffset);
      __m256i s1 = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = 0; k < kVecs; k += 2) {
        if constexpr (kSignedQ8) {
          s0 = DotS8S8(s0, w[k], Bcast4(xq + X8Elem<K>(k)));
          s1 = DotS8S8(s1, w[k + 1], Bcast4(xq + X8Elem<K>(k + 1)));
        } else {
          s0 = DotU8S8(s0, w[k], Bcast4(xq + X8Elem<K>(k)));
          s1 = DotU8S8(s1, w[k + 1], Bcast4(xq + X8Elem<K>(k + 1)));
        }
      }
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(x[t].d[b]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), scale, acc[t]);
      if constexpr (F::kHasMin) {
        const __m256 mins = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + F::kMin)));
        acc[t] = _mm256_fmadd_ps(mins, _mm256_set1_ps(x[t].s[b]), acc[t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(a.y + static_cast<size_t>(t) * a.y_stride + 8 * g, acc[t]);
}

#if defined(OC_X86_VNNI)
// The scales of two row groups' blocks: lanes 0-7 group g, 8-15 group g + 1.
template <X8Kind K>
inline __m512 X8Scales2(const uint8_t* blk0, const uint8_t* blk1) {
  if constexpr (K == X8Kind::kMxfp4) {
    const __m128i e8 = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk0)),
                                          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk1)));
    const __m512i e = _mm512_cvtepu8_epi32(e8);
    const __m512i normal = _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23);
    const __m512i sub = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), e);
    return _mm512_castsi512_ps(_mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(e, _mm512_set1_epi32(1)), sub, normal));
  } else {
    const __m256i h =
        _mm256_inserti128_si256(_mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk0))),
                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk1)), 1);
    return _mm512_cvtph_ps(h);
  }
}

inline void AddFifthBits(__m512i h, int k, __m512i* lo, __m512i* hi) {
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  *lo = _mm512_or_si512(*lo, _mm512_and_si512(_mm512_slli_epi16(h, 4 - k), bit4));
  *hi = _mm512_or_si512(*hi, _mm512_and_si512(_mm512_srli_epi16(h, k), bit4));
}

// Two row groups' 8 f16 mins as floats (lanes 0-7 group g, 8-15 group g + 1).
inline __m512 X8Mins2(const uint8_t* m0, const uint8_t* m1) {
  return _mm512_cvtph_ps(
      _mm256_inserti128_si256(_mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(m0))),
                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(m1)), 1));
}

// 32 bytes at lo, then 32 at hi.
inline __m512i Load2x256(const uint8_t* lo, const uint8_t* hi) {
  return _mm512_inserti64x4(_mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi)), 1);
}

// Two row groups' quants (X8Unpack's levels): lanes 0-7 group g, 8-15 group g + 1.
template <X8Kind K>
__attribute__((always_inline)) inline void X8Unpack2(const uint8_t* blk0, const uint8_t* blk1, __m512i* w) {
  using F = X8Fmt<K>;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  // Mxfp4Levels12x2's 16 bytes in each 128-bit lane (little-endian words, lowest last).
  const __m512i levels = _mm512_set4_epi32(0x00040608, 0x090A0B0C, 0x18141210, 0x0F0E0D0C);
#pragma GCC unroll 8
  for (int k = 0; k < F::kChunks; ++k) {
    const __m512i v = Load2x256(blk0 + F::kHeader + 32 * k, blk1 + F::kHeader + 32 * k);
    if constexpr (F::kNibbles) {
      w[k] = _mm512_and_si512(v, m4);
      w[k + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      if constexpr (F::kFive) AddFifthBits(Load2x256(blk0 + F::kHigh, blk1 + F::kHigh), k, &w[k], &w[k + 4]);
      if constexpr (K == X8Kind::kMxfp4) {
        w[k] = _mm512_shuffle_epi8(levels, w[k]);
        w[k + 4] = _mm512_shuffle_epi8(levels, w[k + 4]);
      }
    } else {
      w[k] = v;
    }
  }
}

// Two row groups at once in 512-bit registers: lane i < 8 is row i of group g, lane 8 + i
// row i of group g + 1. Every lane gets X8Group's integer sums, conversion, scale
// product and fused multiply-add, in block order: results are bitwise X8Group's, with
// half the instructions (vpdpbusd on 16 rows).
template <X8Kind K, int T>
__attribute__((always_inline)) inline void X8GroupPair(const MatMulArgs& a, int g) {
  using F = X8Fmt<K>;
  constexpr int kVecs = 8;
  const int nb = a.in_dim / 32;
  const uint8_t* base0 = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
  const uint8_t* base1 = base0 + 8 * a.w_row_bytes;
  ActQ8View x[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk0 = base0 + b * F::kBlock;
    const uint8_t* blk1 = base1 + b * F::kBlock;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<F::kBlock>(a.prefetch_nta, blk0, blk1);
    const __m512 dw = X8Scales2<K>(blk0, blk1);
    __m512i w[kVecs];
    X8Unpack2<K>(blk0, blk1, w);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const int8_t* xq = x[t].qs + 32 * b;
      __m512i s0 = _mm512_set1_epi32(-x[t].sum[b] * F::kOffset);
      __m512i s1 = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int k = 0; k < kVecs; k += 2) {
        int32_t v0, v1;
        std::memcpy(&v0, xq + X8Elem<K>(k), 4);
        std::memcpy(&v1, xq + X8Elem<K>(k + 1), 4);
        s0 = _mm512_dpbusd_epi32(s0, w[k], _mm512_set1_epi32(v0));
        s1 = _mm512_dpbusd_epi32(s1, w[k + 1], _mm512_set1_epi32(v1));
      }
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(x[t].d[b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[t]);
      if constexpr (F::kHasMin)
        acc[t] = _mm512_fmadd_ps(X8Mins2(blk0 + F::kMin, blk1 + F::kMin), _mm512_set1_ps(x[t].s[b]), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(a.y + static_cast<size_t>(t) * a.y_stride + 8 * g, acc[t]);
}
#endif

// T tokens starting at token t, one row group (two with kPair).
template <X8Kind K, int T, bool kPair = false>
inline void X8Tile(const MatMulArgs& a, int t, int g) {
  MatMulArgs sub = a;
  sub.x = a.x + static_cast<size_t>(t) * a.x_row_bytes;
  sub.y = a.y + static_cast<size_t>(t) * a.y_stride;
#if defined(OC_X86_VNNI)
  if constexpr (kPair) {
    X8GroupPair<K, T>(sub, g);
    return;
  }
#endif
  X8Group<K, T>(sub, g);
}

// The last 1-3 tokens of a pair of groups (kPair): in 512-bit registers (kWideDecode),
// or group by group in 256-bit ones -- the same bits either way.
template <X8Kind K, int T, bool kPair, bool kWideDecode>
inline void X8RestTile(const MatMulArgs& a, int t, int g) {
  if constexpr (kPair && !kWideDecode) {
    X8Tile<K, T>(a, t, g);
    X8Tile<K, T>(a, t, g + 1);
  } else {
    X8Tile<K, T, kPair>(a, t, g);
  }
}

// Row groups outermost: a group's weights (8 rows) are read from memory once and serve
// every token from cache, in tiles of 4 and one tile of the 1-3 left (a decode step of a
// few sequences, an expert chosen by 2 tokens). Each output element gets the same
// instructions whatever the tile, so results do not depend on the token count. With
// VNNI (AVX-512) groups go in pairs through 512-bit registers, in tiles of 8 tokens (32
// registers hold a pair's 8 weight registers and 8 accumulators; each unpacking serves
// twice the tokens: prefill +9-13 % on Zen 5, kernels_bench t256 and pp512), then one of
// 4 and the rest; with kWideDecode false
// (DecodeForm kNarrow, kHalves) the 1-3 token tile does not: there a pair's 512-bit loads
// and unpacking cost more than they save (decode of Q4_0 x8, a core: Zen 4 14 vs 26 GB/s,
// Zen 5 14-17 vs 22-24).
template <X8Kind K, bool kPair, bool kWideDecode>
void X8Groups(const MatMulArgs& a, int g) {
  constexpr int kT = kPair ? 8 : 4;
  int full = a.n_tokens / kT * kT;
  for (int t = 0; t < full; t += kT) X8Tile<K, kT, kPair>(a, t, g);
  if (kT == 8 && a.n_tokens - full >= 4) {
    X8Tile<K, 4, kPair>(a, full, g);
    full += 4;
  }
  const int rest = a.n_tokens - full;
  if (rest == 3) X8RestTile<K, 3, kPair, kWideDecode>(a, full, g);
  if (rest == 2) X8RestTile<K, 2, kPair, kWideDecode>(a, full, g);
  if (rest == 1) X8RestTile<K, 1, kPair, kWideDecode>(a, full, g);
}

template <X8Kind K, bool kWideDecode = true>
void X8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  int g = row_begin / 8;
  const int g_end = row_end / 8;
#if defined(OC_X86_VNNI)
  for (; g + 2 <= g_end; g += 2) X8Groups<K, true, kWideDecode>(a, g);
#endif
  for (; g < g_end; ++g) X8Groups<K, false, kWideDecode>(a, g);
}

}  // namespace
}  // namespace omnicoder
