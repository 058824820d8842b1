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

inline __m256i Bcast4K(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Byte `k` (0..3) of each 32-bit lane, as int32.
inline __m256i LaneByte(__m256i v, int k) {
  return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_set1_epi32(8 * k)), _mm256_set1_epi32(0xFF));
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
        for (int t = 0; t < T; ++t) part[t] = SubDot(part[t], q, Bcast4K(xq[t] + 32 * j + 4 * k));
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
  const __m256i m6 = _mm256_set1_epi32(0x3f3f3f3f);
  const __m256i low4 = _mm256_set1_epi32(0x0f0f0f0f), top2 = _mm256_set1_epi32(0x03030303);
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + static_cast<size_t>(b) * kGroupBlock;
    if constexpr (T <= kPrefetchTokens) PrefetchAhead<kGroupBlock>(blk);
    const __m256i wa = Load256(blk + 32), wb = Load256(blk + 64), wc = Load256(blk + 96);
    const __m256i sc[2] = {_mm256_and_si256(wa, m6),
                           _mm256_or_si256(_mm256_and_si256(wc, low4),
                                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(wa, 6), top2), 4))};
    const __m256i mn[2] = {_mm256_and_si256(wb, m6),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(wc, 4), low4),
                                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(wb, 6), top2), 4))};
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

template <bool kPrefetch>
inline void Q6KX8Token(const MatMulArgs& a, const uint8_t* base, int t, float* out) {
  const int nb = a.in_dim / 256;
  const ActQ8KView x = ViewActQ8K(a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < nb; ++b) {
    const uint8_t* blk = base + static_cast<size_t>(b) * 1680;
    if constexpr (kPrefetch) PrefetchAhead<1680>(blk);
    const int8_t* xq = x.qs + 256 * b;
    const int16_t* bs = x.bsums + 16 * b;
    __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
      for (int half = 0; half < 2; ++half) {
        __m256i s[4];
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) s[g] = _mm256_set1_epi32(-32 * bs[8 * h + 2 * g + half]);
#pragma GCC unroll 4
        for (int k4 = 0; k4 < 4; ++k4) {
          const int kk = 4 * half + k4;
          const __m256i la = Load256(blk + 144 + 32 * (16 * h + kk));
          const __m256i lb = Load256(blk + 144 + 32 * (16 * h + 8 + kk));
          const __m256i qh = Load256(blk + 1168 + 32 * (8 * h + kk));
          const __m256i q[4] = {
              _mm256_or_si256(_mm256_and_si256(la, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
              _mm256_or_si256(_mm256_and_si256(lb, m4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
          };
#pragma GCC unroll 4
          for (int g = 0; g < 4; ++g) s[g] = DotU8S8(s[g], q[g], Bcast4K(xq + 128 * h + 32 * g + 4 * kk));
        }
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          const __m256i sc = _mm256_cvtepi8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 16 + 8 * (8 * h + 2 * g + half))));
          isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(s[g], sc));
        }
      }
    }
    const __m256 d =
        _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk))), _mm256_set1_ps(x.d[b]));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), d, acc);
  }
  _mm256_storeu_ps(out, acc);
}

enum class KX8Kind { kQ4_K, kQ5_K, kQ6_K };

// Row groups outermost, tokens in tiles of 4 and one tile of the 1-3 left, as in
// X8Groups: a group's weights are read from memory once (prefetched when the tile is a
// decode step's few tokens) and serve every token from cache, each quant register
// unpacked once per tile. Each output gets the same instructions whatever the tile.
template <KX8Kind K>
void KX8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  for (int g = row_begin / 8; g < row_end / 8; ++g) {
    const uint8_t* base = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
    if constexpr (K == KX8Kind::kQ6_K) {
      const bool stream = a.n_tokens <= kPrefetchTokens;
      for (int t = 0; t < a.n_tokens; ++t) {
        float* out = a.y + static_cast<size_t>(t) * a.y_stride + 8 * g;
        if (t == 0 && stream) {
          Q6KX8Token<true>(a, base, t, out);
        } else {
          Q6KX8Token<false>(a, base, t, out);
        }
      }
    } else {
      constexpr bool kFive = K == KX8Kind::kQ5_K;
      constexpr int kT = 4;
      const int full = a.n_tokens / kT * kT, rest = a.n_tokens - full;
      for (int t = 0; t < full; t += kT) Q45KX8Tile<kFive, kT>(a, base, t, g);
      if (rest == 3) Q45KX8Tile<kFive, 3>(a, base, full, g);
      if (rest == 2) Q45KX8Tile<kFive, 2>(a, base, full, g);
      if (rest == 1) Q45KX8Tile<kFive, 1>(a, base, full, g);
    }
  }
}

// Installs the interleaved kernels of this translation unit's ISA (avx2/ or avx512/).
inline void SetX86InterleavedKernels(KernelTable* t) {
  auto x8 = [t](DType type, MatMulFn fn, bool prefer) {
    t->matmul[static_cast<uint32_t>(type)].matmul_x8 = fn;
    t->matmul[static_cast<uint32_t>(type)].prefer_x8 = prefer;
  };
  x8(DType::kQ4_0, &X8MatMul<X8Kind::kQ4_0>, true);
  x8(DType::kQ4_1, &X8MatMul<X8Kind::kQ4_1>, true);
  x8(DType::kQ5_0, &X8MatMul<X8Kind::kQ5_0>, true);
  x8(DType::kQ5_1, &X8MatMul<X8Kind::kQ5_1>, true);
  x8(DType::kQ8_0, &X8MatMul<X8Kind::kQ8_0>, true);
  x8(DType::kMXFP4, &X8MatMul<X8Kind::kMxfp4>, true);
  x8(DType::kQ4_K, &KX8MatMul<KX8Kind::kQ4_K>, true);
  // Q5_K: the fifth bits cost 6 more instructions per quant register, once per tile of
  // 4 tokens; the interleaved kernel wins decode and prefill on AVX2 and with VNNI.
  x8(DType::kQ5_K, &KX8MatMul<KX8Kind::kQ5_K>, true);
  // Q6_K: the interleaved kernel is no faster than the row-major one (decode 12-16 GMAC/s
  // per core either way on Sapphire Rapids, slower on the AMD machine; its 6-bit unpack
  // dominates), and AMX prefill gathers row-major Q6_K rows. Available, not preferred.
  x8(DType::kQ6_K, &KX8MatMul<KX8Kind::kQ6_K>, false);
}

}  // namespace
}  // namespace omnicoder
