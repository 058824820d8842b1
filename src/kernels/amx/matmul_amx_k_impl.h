// AMX-INT8 prefill over 8-row interleaved Q4_K / Q5_K weights (repack.h) with kQ8K
// activations.
//
// Per 256-element super-block a Q4_K row needs two exact integers per token, which the
// AVX-512 kernel (matmul_kx8_impl.h) forms sub-block by sub-block:
//   isum = sum_j sc_j * sum_{k in j} q_k x_k      msum = sum_j mn_j * sum_{k in j} x_k
// Here each is a tile product over the whole super-block. A 6-bit scale is split as
// sc = 8 hi + lo (hi, lo < 8), so q * lo and q * hi (<= 105; Q5_K's 5-bit q: <= 217) are
// unsigned byte weights: isum = C_lo + 8 C_hi, with C_lo, C_hi accumulated by TDPBSUD
// (signed activations x unsigned weights) over the 256 elements; msum is
// the product with weights mn_j repeated over sub-block j. The integers are the same,
// and each lane gets the same conversions, scale products, FMA and FNMA as that kernel's,
// so results are bitwise equal to it. With 16 tokens or more, a last tile of kMinTail to
// 15 tokens multiplies a zero-padded copy of its activation bytes (the unpacked weights
// are shared with the full tiles); fewer tokens left, fewer than 16 in all (an expert's
// share of a prompt), and an odd last row group go through that kernel directly.
#pragma once
#define OC_X86_VNNI 1
#include <cstdint>
#include <cstring>

#include "kernels/amx/amx_tiles.h"
#include "kernels/amx/amx_tokens.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_kx8_impl.h"

namespace omnicoder {

namespace {

constexpr int kTokTile = kAmxTokTile;
// Fewest tokens a short last tile takes after full tiles, whose unpacked weights it shares
// (its cost is then its tile products). A call of fewer than 16 tokens in all would unpack
// weights for one short tile only; the VNNI kernel's 4-token tiles run it twice as fast
// (kernels_bench, Sapphire Rapids, 1 thread, 8 tokens: 72-75 vs 33-35 GMAC/s).
constexpr int kMinTail = 8;
constexpr int kChunk = 4;                                    // super-blocks unpacked at once: 4 x 12 KiB of B tiles
constexpr int kQ4KGroupBytes = 1152, kQ5KGroupBytes = 1408;  // an 8-row group's super-block
// Per super-block of a group pair: 4 steps of 64 elements x (lo, hi, mins) B tiles.
constexpr int kSuperTileBytes = 4 * 3 * 1024;

// Tiles: 0 = C_lo, 1 = C_hi, 2 = C_m; 3 = A (16 tokens x 64 bytes); 4, 5, 6 = B_lo,
// B_hi, B_m (16 rows of 4-element groups x 16 weight rows). All 16 rows x 64 bytes.
alignas(64) constexpr TileConfig kQ4KTiles = {1,
                                              0,
                                              {},
                                              {64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                              {16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0}};

// Byte j % 4 of every 32-bit lane of word[j / 4], repeated into all 4 bytes of the lane,
// for the two groups (lanes 0-7 group 0, 8-15 group 1).
inline __m512i SubBlockBytes(const __m256i* w0, const __m256i* w1, int j) {
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(w0[j / 4]), w1[j / 4], 1);
  const __m512i lane = _mm512_set4_epi32(0x0c0c0c0c, 0x08080808, 0x04040404, 0x00000000);
  return _mm512_shuffle_epi8(both, _mm512_add_epi8(lane, _mm512_set1_epi8(static_cast<char>(j % 4))));
}

// q (bytes 0..31) times s (0..7, the same in the 4 bytes of a lane), bytewise (<= 217).
inline __m512i MulSmall(__m512i q, __m512i s) {
  const __m512i lo8 = _mm512_set1_epi16(0x00FF);
  const __m512i even = _mm512_mullo_epi16(_mm512_and_si512(q, lo8), _mm512_and_si512(s, lo8));
  const __m512i odd = _mm512_mullo_epi16(_mm512_srli_epi16(q, 8), _mm512_and_si512(s, lo8));
  return _mm512_or_si512(_mm512_and_si512(even, lo8), _mm512_slli_epi16(odd, 8));
}

// One super-block of a group pair -> 4 steps x {B_lo, B_hi, B_m} and the 16 rows' d, dmin.
// Q5_K (kFive): the fifth bit of q in step c, half h is bit 2c + h of its high-bit byte.
template <bool kFive>
void UnpackSuper(const uint8_t* blk0, const uint8_t* blk1, int8_t* tiles, float* d, float* dmin) {
  auto halves = [](const uint8_t* p0, const uint8_t* p1) {
    return _mm512_cvtph_ps(
        _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1));
  };
  _mm512_store_ps(d, halves(blk0, blk1));
  _mm512_store_ps(dmin, halves(blk0 + 16, blk1 + 16));
  __m256i sc0[2], mn0[2], sc1[2], mn1[2];
  DecodeScales<KLanes8>(blk0, 0, sc0, mn0);
  DecodeScales<KLanes8>(blk1, 0, sc1, mn1);
  const __m512i m4 = _mm512_set1_epi8(0x0F), m7 = _mm512_set1_epi8(0x07);
  for (int c = 0; c < 4; ++c) {
    int8_t* step = tiles + c * 3 * 1024;
    for (int half = 0; half < 2; ++half) {  // sub-block j = 2c + half: B rows 8 half .. 8 half + 7
      const int j = 2 * c + half;
      const __m512i sc = SubBlockBytes(sc0, sc1, j), mn = SubBlockBytes(mn0, mn1, j);
      const __m512i lo = _mm512_and_si512(sc, m7), hi = _mm512_and_si512(_mm512_srli_epi16(sc, 3), m7);
      for (int k = 0; k < 8; ++k) {
        const size_t off = 128 + 32 * (8 * c + k);
        const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(Load256(blk0 + off)), Load256(blk1 + off), 1);
        __m512i q = half == 0 ? _mm512_and_si512(v, m4) : _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if constexpr (kFive) {
          const size_t hoff = 1152 + 32 * k;
          const __m512i h = _mm512_inserti64x4(_mm512_castsi256_si512(Load256(blk0 + hoff)), Load256(blk1 + hoff), 1);
          const __m512i bit = _mm512_and_si512(_mm512_srl_epi16(h, _mm_cvtsi32_si128(j)), _mm512_set1_epi8(1));
          q = _mm512_or_si512(q, _mm512_slli_epi16(bit, 4));
        }
        const int row = 8 * half + k;
        _mm512_store_si512(step + 64 * row, MulSmall(q, lo));
        _mm512_store_si512(step + 1024 + 64 * row, MulSmall(q, hi));
        _mm512_store_si512(step + 2048 + 64 * row, mn);
      }
    }
  }
}

struct TokenTileK {
  ATiles a;  // super-block j's step s at a.base + (4 j + s) * a.unit_step
  int rows;  // tokens in the tile (amx_tokens.h)
  const float* dx[kTokTile];
  float* y;
  size_t y_stride;
};

// acc[t] += isum * (d * dx) - msum * (dmin * dx), as Q45KX8Tile does per lane.
__attribute__((always_inline)) inline void EpilogueK(const int32_t* c, const float* d, const float* dmin,
                                                     const TokenTileK& tt, int b, __m512* acc) {
  const __m512 vd = _mm512_load_ps(d), vdmin = _mm512_load_ps(dmin);
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    const __m512i isum =
        _mm512_add_epi32(_mm512_load_si512(c + 16 * t), _mm512_slli_epi32(_mm512_load_si512(c + 256 + 16 * t), 3));
    const __m512 dx = _mm512_set1_ps(tt.dx[t][b]);
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(vd, dx), acc[t]);
    acc[t] =
        _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + 512 + 16 * t)), _mm512_mul_ps(vdmin, dx), acc[t]);
  }
}

// Super-blocks [b0, b0 + n) of a group pair, unpacked.
struct ChunkK {
  const int8_t* tiles;
  const float* d;
  const float* dmin;
  int b0, n;
};

void TileChunkK(const TokenTileK& tt, const ChunkK& ck, bool first) {
  __m512 acc[kTokTile];
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    acc[t] = first || t >= tt.rows ? _mm512_setzero_ps() : _mm512_loadu_ps(tt.y + t * tt.y_stride);
  }
  alignas(64) int32_t c[3 * 256];
  const int b0 = ck.b0;
  for (int j = 0; j < ck.n; ++j) {
    const int8_t* st = ck.tiles + j * kSuperTileBytes;
    OC_TILE_ZERO(0);
    OC_TILE_ZERO(1);
    OC_TILE_ZERO(2);
    for (int s = 0; s < 4; ++s) {
      OC_TILE_LOADD(3, tt.a.base + (4 * j + s) * tt.a.unit_step, tt.a.stride);
      OC_TILE_LOADD(4, st + s * 3 * 1024, 64);
      OC_TILE_DPBSUD(0, 3, 4);
      OC_TILE_LOADD(5, st + s * 3 * 1024 + 1024, 64);
      OC_TILE_DPBSUD(1, 3, 5);
      OC_TILE_LOADD(6, st + s * 3 * 1024 + 2048, 64);
      OC_TILE_DPBSUD(2, 3, 6);
    }
    OC_TILE_STORED(0, c, 64);
    OC_TILE_STORED(1, c + 256, 64);
    OC_TILE_STORED(2, c + 512, 64);
    EpilogueK(c, ck.d + 16 * j, ck.dmin + 16 * j, tt, b0 + j, acc);
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    if (t < tt.rows) _mm512_storeu_ps(tt.y + t * tt.y_stride, acc[t]);
  }
}

template <bool kFive>
void AmxPairQ45K(const MatMulArgs& a, int g, int n_tok) {
  constexpr size_t kGroupBytes = kFive ? kQ5KGroupBytes : kQ4KGroupBytes;
  const int nb = a.in_dim / 256;
  const uint8_t* base0 = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
  const uint8_t* base1 = base0 + 8 * a.w_row_bytes;
  alignas(64) int8_t tiles[kChunk * kSuperTileBytes];
  alignas(64) float d[kChunk * 16], dmin[kChunk * 16];
  alignas(64) uint8_t apack[kChunk * 4 * 1024];  // a short tile's A (amx_tokens.h)
  if (n_tok % kTokTile) std::memset(apack, 0, sizeof(apack));
  for (int b0 = 0; b0 < nb; b0 += kChunk) {
    const int n = nb - b0 < kChunk ? nb - b0 : kChunk;
    for (int j = 0; j < n; ++j) {
      const size_t off = static_cast<size_t>(b0 + j) * kGroupBytes;
      UnpackSuper<kFive>(base0 + off, base1 + off, tiles + j * kSuperTileBytes, d + 16 * j, dmin + 16 * j);
    }
    for (int t0 = 0; t0 < n_tok; t0 += kTokTile) {
      TokenTileK tt;
      const uint8_t* x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
      tt.rows = n_tok - t0 < kTokTile ? n_tok - t0 : kTokTile;
      tt.a = TokenATiles({x, a.x_row_bytes, tt.rows}, 256 * b0, 4 * n, 64, apack);
      for (int t = 0; t < kTokTile; ++t) tt.dx[t] = ViewActQ8K(x + (t < tt.rows ? t : 0) * a.x_row_bytes, a.in_dim).d;
      tt.y = a.y + static_cast<size_t>(t0) * a.y_stride + 8 * g;
      tt.y_stride = a.y_stride;
      TileChunkK(tt, {tiles, d, dmin, b0, n}, b0 == 0);
    }
  }
}

template <bool kFive>
void AmxQ45KMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  constexpr KX8Kind kKind = kFive ? KX8Kind::kQ5_K : KX8Kind::kQ4_K;
  const int on_tiles = a.n_tokens < kTokTile ? 0 : TokensOnTiles(a.n_tokens, kMinTail);
  int g = row_begin / 8;
  const int g_end = row_end / 8, pairs_end = g + (g_end - g) / 2 * 2;
  if (on_tiles == 0 || pairs_end == g) {
    KX8MatMul<kKind>(a, row_begin, row_end);
    return;
  }
  OC_TILE_LOADCONFIG(&kQ4KTiles);
  for (; g < pairs_end; g += 2) AmxPairQ45K<kFive>(a, g, on_tiles);
  OC_TILE_RELEASE();
  if (on_tiles < a.n_tokens) KX8MatMul<kKind>(TokensFrom(a, on_tiles), row_begin, pairs_end * 8);  // the rest
  if (pairs_end < g_end) KX8MatMul<kKind>(a, pairs_end * 8, row_end);
}

}  // namespace

namespace OC_AMX_NS {
void FillAmxInt8KMatMul(KernelTable* t) {
  t->matmul[static_cast<uint32_t>(DType::kQ4_K)].matmul_x8 = &AmxQ45KMatMul<false>;
  t->matmul[static_cast<uint32_t>(DType::kQ5_K)].matmul_x8 = &AmxQ45KMatMul<true>;
}
}  // namespace OC_AMX_NS

}  // namespace omnicoder
