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
#include "kernels/x86/kx8_lanes.h"
#include "kernels/x86/matmul_x8_impl.h"
#include "kernels/x86/x86_common.h"

namespace omnicoder {
namespace {

inline __m256i Load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The 6-bit scales (mins with kMins) of sub-blocks 0-3 and 4-7 of the rows of one group
// (a pair in KLanes16), byte j % 4 of each row's lane in word j / 4.
template <class V>
__attribute__((always_inline)) inline void DecodeScales(const uint8_t* blk, size_t pair, typename V::I* sc,
                                                        typename V::I* mn) {
  using I = typename V::I;
  const I m6 = V::Set1(0x3f3f3f3f), low4 = V::Set1(0x0f0f0f0f), top2 = V::Set1(0x03030303);
  const I wa = V::Load(blk + 32, pair), wb = V::Load(blk + 64, pair), wc = V::Load(blk + 96, pair);
  sc[0] = V::And(wa, m6);
  sc[1] = V::Or(V::And(wc, low4), V::Slli32(V::And(V::Srli32(wa, 6), top2), 4));
  mn[0] = V::And(wb, m6);
  mn[1] = V::Or(V::And(V::Srli32(wc, 4), low4), V::Slli32(V::And(V::Srli32(wb, 6), top2), 4));
}

// Quant register k of sub-block j (low nibbles for even j, high for odd), with Q5_K's
// fifth bit (bit j of the high-bit byte, 4 bytes per row per register at offset 1152).
template <class V, bool kFive>
__attribute__((always_inline)) inline typename V::I KX8Quants(const uint8_t* blk, size_t pair, int c, int j, int k) {
  using I = typename V::I;
  const I m4 = V::Set1Byte(0x0F);
  const I w = V::Load(blk + 128 + 32 * (8 * c + k), pair);
  I q = (j % 2 == 0) ? V::And(w, m4) : V::And(V::Srli16(w, 4), m4);
  if constexpr (kFive) {
    const I h = V::Load(blk + 1152 + 32 * k, pair);
    q = V::Or(q, V::And(V::Slli16(V::Srli16(h, j), 4), V::Set1Byte(0x10)));
  }
  return q;
}

// isum[t] += sum over sub-blocks j of scale_j * (quants_j . x_t), for T tokens of one
// superblock: each quant register is unpacked once and serves all T tokens.
template <class V, bool kFive, int T>
__attribute__((always_inline)) inline void KX8SuperDots(const uint8_t* blk, size_t pair, const typename V::I* sc,
                                                        const int8_t* const* xq, typename V::I* isum) {
  using I = typename V::I;
  constexpr int kFlush = V::kInt16Sums && kFive ? 4 : 8;  // int16 partial sums must not overflow
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const int c = j / 2;
    const I scale = V::SubScale(sc, j);
#pragma GCC unroll 2
    for (int k0 = 0; k0 < 8; k0 += kFlush) {
      I part[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) part[t] = V::Zero();
#pragma GCC unroll 8
      for (int k = k0; k < k0 + kFlush; ++k) {
        const I q = KX8Quants<V, kFive>(blk, pair, c, j, k);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          part[t] = V::Dot(part[t], q, Bcast4V<V>(xq[t] + 32 * j + 4 * k));
          V::Keep(part[t]);
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = V::Add32(isum[t], V::Scaled(part[t], scale));
    }
  }
}

// Q4_K, or Q5_K (kFive), for tokens t0 .. t0 + T - 1 of the row group at `base` (and,
// with KLanes16, of the next one, `pair` bytes further).
template <class V, bool kFive, int T>
__attribute__((always_inline)) inline void Q45KX8Tile(const MatMulArgs& a, const uint8_t* base, size_t pair, int t0,
                                                      int g) {
  using I = typename V::I;
  using F = typename V::F;
  constexpr size_t kGroupBlock = kFive ? 1408 : 1152;
  const int nb = a.in_dim / 256;
  ActQ8KView x[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) x[t] = ViewActQ8K(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes, a.in_dim);
  F acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = V::ZeroPs();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + static_cast<size_t>(b) * kGroupBlock;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<kGroupBlock>(a.prefetch_nta, blk);
    I sc[2], mn[2];
    DecodeScales<V>(blk, pair, sc, mn);
    const int8_t* xq[T];
    I isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      xq[t] = x[t].qs + 256 * b;
      isum[t] = V::Zero();
    }
    KX8SuperDots<V, kFive, T>(blk, pair, sc, xq, isum);
    const F d = V::HalfToFloat(blk, pair);
    const F dmin = V::HalfToFloat(blk + 16, pair);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      I msum = V::Zero();
      const int16_t* bs = x[t].bsums + 16 * b;
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        msum = V::Add32(msum, V::Mullo32(LaneByteV<V>(mn[j / 4], j % 4), V::Set1(bs[2 * j] + bs[2 * j + 1])));
      }
      const F dx = V::Set1Ps(x[t].d[b]);
      acc[t] = V::Fmadd(V::Cvt(isum[t]), V::Mul(d, dx), acc[t]);
      acc[t] = V::Fnmadd(V::Cvt(msum), V::Mul(dmin, dx), acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) V::Store(a.y + static_cast<size_t>(t0 + t) * a.y_stride + 8 * g, acc[t]);
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
        const __m256i x = Bcast4(xq[t] + 128 * h + 32 * g + 4 * kk);
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
    for (int j = 0; j < 8; ++j) o = _mm256_add_epi32(o, _mm256_madd_epi16(pairs[j], Bcast4(bs[t] + 2 * j)));
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
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<1680>(a.prefetch_nta, blk);
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
    Q45KX8Tile<KLanes8, K == KX8Kind::kQ5_K, T>(a, base, 0, t0, g);
  }
}

// Row groups outermost, tokens in tiles of 4 and one tile of the 1-3 left, as in
// X8Groups: a group's weights are read from memory once (prefetched when the tile is a
// decode step's few tokens) and serve every token from cache, each quant register
// unpacked once per tile. Each output gets the same instructions whatever the tile.
// With VNNI, Q4_K / Q5_K take pairs of groups through 512-bit registers for the tiles
// of 4 (KLanes16; the 1-3 left stay group by group, as decode does).
template <KX8Kind K>
void KX8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  constexpr int kT = 4;
  const int full = a.n_tokens / kT * kT, rest = a.n_tokens - full;
  int g = row_begin / 8;
  const int g_end = row_end / 8;
#if defined(OC_X86_VNNI)
  if constexpr (K != KX8Kind::kQ6_K) {
    const size_t pair = 8 * a.w_row_bytes;
    for (; full > 0 && g + 2 <= g_end; g += 2) {
      const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
      for (int t = 0; t < full; t += kT) Q45KX8Tile<KLanes16, K == KX8Kind::kQ5_K, kT>(a, base, pair, t, g);
      for (int h = 0; h < 2; ++h) {
        if (rest == 3) KX8Tile<K, 3>(a, base + h * pair, full, g + h);
        if (rest == 2) KX8Tile<K, 2>(a, base + h * pair, full, g + h);
        if (rest == 1) KX8Tile<K, 1>(a, base + h * pair, full, g + h);
      }
    }
  }
#endif
  for (; g < g_end; ++g) {
    const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
    for (int t = 0; t < full; t += kT) KX8Tile<K, kT>(a, base, t, g);
    if (rest == 3) KX8Tile<K, 3>(a, base, full, g);
    if (rest == 2) KX8Tile<K, 2>(a, base, full, g);
    if (rest == 1) KX8Tile<K, 1>(a, base, full, g);
  }
}

// Installs the interleaved kernels of this translation unit's ISA (avx2/ or avx512/);
// kWideDecode: a pair of groups' 1-3 token tile in 512-bit registers (X8Groups;
// DecodeForm::kWide).
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
