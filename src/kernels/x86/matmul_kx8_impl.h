// x86 matmul over 8-row interleaved Q4_K / Q5_K / Q6_K weights (repack.h) with kQ8K activations.
// Included by avx2/ and avx512/ (OC_X86_VNNI).
//
// As in matmul_x8_impl.h each 32-bit lane is one row: per 32 (Q4_K) or 16 (Q6_K)
// elements the lanes accumulate u8 x s8 dot products of 8 rows against broadcast
// activations, then multiply by that sub-block's per-row scales (VNNI: int32 sums and one
// vpmulld; AVX2: int16 sums and one vpmaddwd, which is also the pairwise add a 32-bit
// product would need). Q4_K mins use the activation's 16-element sums; the Q6_K offset
// (-32) seeds each sub-block's accumulator. Tokens loop inside a row group, so a group's
// weights stay in L1 while every token of a prefill batch uses them.
#pragma once

#include "kernels/act_format.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_x8_impl.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

inline __m256i Load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

inline __m256i Bcast4K(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Byte `k` (0..3) of each 32-bit lane, as int32.
inline __m256i LaneByte(__m256i v, int k) {
  return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_set1_epi32(8 * k)), _mm256_set1_epi32(0xFF));
}

// The 6-bit scales (mins with kMins) of sub-blocks 0-3 and 4-7 of the 8 rows of one
// group, byte j % 4 of each row's lane in word j / 4.
__attribute__((always_inline)) inline void DecodeScales(const uint8_t* blk, __m256i* sc, __m256i* mn) {
  const __m256i m6 = _mm256_set1_epi32(0x3f3f3f3f), low4 = _mm256_set1_epi32(0x0f0f0f0f);
  const __m256i top2 = _mm256_set1_epi32(0x03030303);
  const __m256i wa = Load256(blk + 32), wb = Load256(blk + 64), wc = Load256(blk + 96);
  sc[0] = _mm256_and_si256(wa, m6);
  sc[1] = _mm256_or_si256(_mm256_and_si256(wc, low4),
                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(wa, 6), top2), 4));
  mn[0] = _mm256_and_si256(wb, m6);
  mn[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(wc, 4), low4),
                          _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(wb, 6), top2), 4));
}

// Sub-block j's per-row scale (byte j % 4 of each lane of s[j / 4]) in the form
// SubScaled multiplies by: int32 per lane (VNNI), or in both int16 halves of the lane.
inline __m256i SubScale(const __m256i* s, int j) {
#if defined(OC_X86_VNNI)
  return LaneByte(s[j / 4], j % 4);
#else
  const int b = j % 4;
  const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(0x80008000u) | b | (b << 16)),
                                       _mm256_setr_epi32(0, 0x40004, 0x80008, 0xc000c, 0, 0x40004, 0x80008, 0xc000c));
  return _mm256_shuffle_epi8(s[j / 4], idx);
#endif
}

// One sub-block's u8 x s8 partial sums: int32 lanes (VNNI), or int16 pairs (AVX2: with
// 4-bit quants 8 registers sum to at most 8 * 3,840 = 30,720, 5-bit ones 4 * 7,936).
inline __m256i SubDot(__m256i part, __m256i q, __m256i x) {
#if defined(OC_X86_VNNI)
  return _mm256_dpbusd_epi32(part, q, x);
#else
  return _mm256_add_epi16(part, _mm256_maddubs_epi16(q, x));
#endif
}

inline __m256i SubScaled(__m256i part, __m256i scale) {
#if defined(OC_X86_VNNI)
  return _mm256_mullo_epi32(part, scale);
#else
  return _mm256_madd_epi16(part, scale);
#endif
}

// Quant register k of sub-block j (low nibbles for even j, high for odd), with Q5_K's
// fifth bit (bit j of the high-bit byte, 4 bytes per row per register at offset 1152).
template <bool kFive>
__attribute__((always_inline)) inline __m256i KX8Quants(const uint8_t* blk, int c, int j, int k) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i w = Load256(blk + 128 + 32 * (8 * c + k));
  __m256i q = (j % 2 == 0) ? _mm256_and_si256(w, m4) : _mm256_and_si256(_mm256_srli_epi16(w, 4), m4);
  if constexpr (kFive) {
    const __m256i h = Load256(blk + 1152 + 32 * k);
    q = _mm256_or_si256(q, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(h, j), 4), _mm256_set1_epi8(0x10)));
  }
  return q;
}

// isum[t] += sum over sub-blocks j of scale_j * (quants_j . x_t), for T tokens of one
// superblock: each quant register is unpacked once and serves all T tokens.
template <bool kFive, int T>
__attribute__((always_inline)) inline void KX8SuperDots(const uint8_t* blk, const __m256i* sc, const int8_t* const* xq,
                                                        __m256i* isum) {
#if defined(OC_X86_VNNI)
  constexpr int kFlush = 8;
#else
  constexpr int kFlush = kFive ? 4 : 8;  // int16 partial sums must not overflow
#endif
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const int c = j / 2;
    const __m256i scale = SubScale(sc, j);
#pragma GCC unroll 2
    for (int k0 = 0; k0 < 8; k0 += kFlush) {
      __m256i part[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) part[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = k0; k < k0 + kFlush; ++k) {
        const __m256i q = KX8Quants<kFive>(blk, c, j, k);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          part[t] = SubDot(part[t], q, Bcast4K(xq[t] + 32 * j + 4 * k));
          KeepChain(part[t]);
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = _mm256_add_epi32(isum[t], SubScaled(part[t], scale));
    }
  }
}

// Q4_K, or Q5_K (kFive), for tokens t0 .. t0 + T - 1 of one row group at `base`.
template <bool kFive, int T>
__attribute__((always_inline)) inline void Q45KX8Tile(const MatMulArgs& a, const uint8_t* base, int t0, int g) {
  constexpr size_t kGroupBlock = kFive ? 1408 : 1152;
  const int nb = a.in_dim / 256;
  ActQ8KView x[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8K(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes, a.in_dim);
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + static_cast<size_t>(b) * kGroupBlock;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<kGroupBlock>(blk);
    __m256i sc[2], mn[2];
    DecodeScales(blk, sc, mn);
    const int8_t* xq[T];
    __m256i isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      xq[t] = x[t].qs + 256 * b;
      isum[t] = _mm256_setzero_si256();
    }
    KX8SuperDots<kFive, T>(blk, sc, xq, isum);
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      __m256i msum = _mm256_setzero_si256();
      const int16_t* bs = x[t].bsums + 16 * b;
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        msum = _mm256_add_epi32(
            msum, _mm256_mullo_epi32(LaneByte(mn[j / 4], j % 4), _mm256_set1_epi32(bs[2 * j] + bs[2 * j + 1])));
      }
      const __m256 dx = _mm256_set1_ps(x[t].d[b]);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, dx), acc[t]);
      acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, dx), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(a.y + static_cast<size_t>(t0 + t) * a.y_stride + 8 * g, acc[t]);
}

// The four quant registers of Q6_K step (h, kk): q[g] holds sub-block 8h + 2g + kk / 4's
// elements 4 (kk % 4) .. +3 of the 8 rows, as u8 levels 0..63.
__attribute__((always_inline)) inline void Q6KQuants(const uint8_t* blk, int h, int kk, __m256i* q) {
  const __m256i la = Load256(blk + 144 + 32 * (16 * h + kk));
  const __m256i lb = Load256(blk + 144 + 32 * (16 * h + 8 + kk));
  const __m256i qh = Load256(blk + 1168 + 32 * (8 * h + kk));
  Q6Levels(la, lb, qh, q);
}

// Sub-block s's 8 signed row scales (bytes 16 + 8 s of the group block) as int32 lanes.
inline __m256i Q6KScales32(const uint8_t* blk, int s) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * s)));
}

// isum[t] += sum over the 4 sub-blocks of (h, half) of scale * (q . x - 32 * bsum).
// VNNI sums each sub-block in int32 from the offset seed, then one vpmulld by its scales.
// AVX2: vpmaddwd by the scale (in both int16 halves of each row's lane) replaces the
// pairwise add of the u8 x s8 product, so the scale costs nothing per register; the
// offset -32 * sum(scale * bsum) is subtracted once per superblock (Q6KSubtractOffsets).
template <int T>
__attribute__((always_inline)) inline void Q6KHalf(const uint8_t* blk, int h, int half, const int8_t* const* xq,
                                                   [[maybe_unused]] const int16_t* const* bs, __m256i* isum) {
  [[maybe_unused]] __m256i acc[4][T];  // VNNI only
  __m256i sc[4];
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    sc[g] = Q6KScales32(blk, 8 * h + 2 * g + half);
#if defined(OC_X86_VNNI)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[g][t] = _mm256_set1_epi32(-32 * bs[t][8 * h + 2 * g + half]);
#else
    sc[g] = _mm256_blend_epi16(sc[g], _mm256_slli_epi32(sc[g], 16), 0xAA);
#endif
  }
#pragma GCC unroll 4
  for (int k4 = 0; k4 < 4; ++k4) {
    const int kk = 4 * half + k4;
    __m256i q[4];
    Q6KQuants(blk, h, kk, q);
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m256i x = Bcast4K(xq[t] + 128 * h + 32 * g + 4 * kk);
#if defined(OC_X86_VNNI)
        acc[g][t] = _mm256_dpbusd_epi32(acc[g][t], q[g], x);
#else
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], x), sc[g]));
        KeepChain(isum[t]);
#endif
      }
    }
  }
#if defined(OC_X86_VNNI)
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(acc[g][t], sc[g]));
  }
#endif
}

#if !defined(OC_X86_VNNI)
// Per row: sum over the 16 sub-blocks of scale * bsum, sub-blocks in pairs through vpmaddwd
// (row r's lane holds the int16 scales of sub-blocks 2j and 2j + 1; the two bsums are
// adjacent int16s). `pairs` from Q6KScalePairs.
template <int T>
__attribute__((always_inline)) inline void Q6KSubtractOffsets(const __m256i* pairs, const int16_t* const* bs,
                                                              __m256i* isum) {
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    __m256i o = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) o = _mm256_add_epi32(o, _mm256_madd_epi16(pairs[j], Bcast4K(bs[t] + 2 * j)));
    isum[t] = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(o, 5));
  }
}

inline void Q6KScalePairs(const uint8_t* blk, __m256i* pairs) {
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const __m128i lo = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 16 * j)));
    const __m128i hi = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 24 + 16 * j)));
    pairs[j] = _mm256_set_m128i(_mm_unpackhi_epi16(lo, hi), _mm_unpacklo_epi16(lo, hi));
  }
}
#endif

// Q6_K for tokens t0 .. t0 + T - 1 of one row group at `base`.
template <int T>
__attribute__((always_inline)) inline void Q6KX8Tile(const MatMulArgs& a, const uint8_t* base, int t0, int g) {
  const int nb = a.in_dim / 256;
  ActQ8KView x[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8K(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes, a.in_dim);
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + static_cast<size_t>(b) * 1680;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<1680>(blk);
    const int8_t* xq[T];
    const int16_t* bs[T];
    __m256i isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      xq[t] = x[t].qs + 256 * b;
      bs[t] = x[t].bsums + 16 * b;
      isum[t] = _mm256_setzero_si256();
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      Q6KHalf<T>(blk, h, 0, xq, bs, isum);
      Q6KHalf<T>(blk, h, 1, xq, bs, isum);
    }
#if !defined(OC_X86_VNNI)
    __m256i pairs[8];
    Q6KScalePairs(blk, pairs);
    Q6KSubtractOffsets<T>(pairs, bs, isum);
#endif
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, _mm256_set1_ps(x[t].d[b])), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(a.y + static_cast<size_t>(t0 + t) * a.y_stride + 8 * g, acc[t]);
}

enum class KX8Kind { kQ4_K, kQ5_K, kQ6_K };

template <KX8Kind K, int T>
__attribute__((always_inline)) inline void KX8Tile(const MatMulArgs& a, const uint8_t* base, int t0, int g) {
  if constexpr (K == KX8Kind::kQ6_K) {
    Q6KX8Tile<T>(a, base, t0, g);
  } else {
    Q45KX8Tile<K == KX8Kind::kQ5_K, T>(a, base, t0, g);
  }
}

// Row groups outermost, tokens in tiles of 4 and one tile of the 1-3 left, as in
// X8Groups: a group's weights are read from memory once (prefetched when the tile is a
// decode step's few tokens) and serve every token from cache, each quant register
// unpacked once per tile. Each output gets the same instructions whatever the tile.
template <KX8Kind K>
void KX8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  constexpr int kT = 4;
  const int full = a.n_tokens / kT * kT, rest = a.n_tokens - full;
  for (int g = row_begin / 8; g < row_end / 8; ++g) {
    const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
    for (int t = 0; t < full; t += kT) KX8Tile<K, kT>(a, base, t, g);
    if (rest == 3) KX8Tile<K, 3>(a, base, full, g);
    if (rest == 2) KX8Tile<K, 2>(a, base, full, g);
    if (rest == 1) KX8Tile<K, 1>(a, base, full, g);
  }
}

// Installs the interleaved kernels of this translation unit's ISA (avx2/ or avx512/);
// kWideDecode: a pair of groups' 1-3 token tile in 512-bit registers (X8Groups).
template <bool kWideDecode = true>
inline void SetX86InterleavedKernels(KernelTable* t) {
  auto x8 = [t](DType type, MatMulFn fn, bool prefer) {
    t->matmul[static_cast<uint32_t>(type)].matmul_x8 = fn;
    t->matmul[static_cast<uint32_t>(type)].prefer_x8 = prefer;
  };
  x8(DType::kQ4_0, &X8MatMul<X8Kind::kQ4_0, kWideDecode>, true);
  x8(DType::kQ4_1, &X8MatMul<X8Kind::kQ4_1, kWideDecode>, true);
  x8(DType::kQ5_0, &X8MatMul<X8Kind::kQ5_0, kWideDecode>, true);
  x8(DType::kQ5_1, &X8MatMul<X8Kind::kQ5_1, kWideDecode>, true);
  x8(DType::kQ8_0, &X8MatMul<X8Kind::kQ8_0, kWideDecode>, true);
  x8(DType::kMXFP4, &X8MatMul<X8Kind::kMxfp4, kWideDecode>, true);
  x8(DType::kQ4_K, &KX8MatMul<KX8Kind::kQ4_K>, true);
  // Q5_K: the fifth bits cost 6 more instructions per quant register, once per tile of
  // 4 tokens; the interleaved kernel wins decode and prefill on AVX2 and with VNNI.
  x8(DType::kQ5_K, &KX8MatMul<KX8Kind::kQ5_K>, true);
  // Q6_K: the 6-bit unpack dominates; once per tile of 4 tokens it makes the interleaved
  // kernel the faster one for prefill (AVX2 2x the row-major kernel at 256 tokens) and
  // no slower for decode. The amx level keeps row-major Q6_K (its tiles gather rows).
  x8(DType::kQ6_K, &KX8MatMul<KX8Kind::kQ6_K>, true);
}

}  // namespace
}  // namespace omnicoder
