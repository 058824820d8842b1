// AMX-INT8 prefill over 8-row interleaved Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 / MXFP4 weights
// (repack.h) with kQ8 activations.
//
// A pair of row groups (16 rows) is unpacked, one 32-element block at a time, into the
// tile layout TDPBSSD takes for B (8 rows of 4-element groups x 16 columns, signed: the
// format's offset subtracted), up to kChunk blocks at once. Then each tile of 16 tokens
// multiplies against them: A = the tokens' 32 activation bytes of a block (read in place
// from the kQ8 rows), C = the 16 x 16 exact integer sums of that block. Those sums are
// the integers the AVX-512 VNNI kernel forms (sum of (q - offset) * x), and each lane
// gets the same conversion, scale product and fused multiply-add in block order, so the
// results are bitwise those of matmul_x8_impl.h's X8GroupPair (Q4_1 / Q5_1: with its
// second FMA, mins x the block's activation sum) -- for every token count,
// row split and thread count. A last tile of kMinTail to 15 tokens multiplies a
// zero-padded copy of its activation bytes; fewer tokens left, and an odd last row group,
// go through that VNNI kernel itself.
#pragma once
#define OC_X86_VNNI 1
#include <cstdint>
#include <cstring>

#include "kernels/amx/amx_tiles.h"
#include "kernels/amx/amx_tokens.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_x8_impl.h"

namespace omnicoder {

namespace {

constexpr int kTokTile = kAmxTokTile;
// Fewest tokens a short last tile takes; fewer go through the VNNI kernel, which is faster
// there (kernels_bench, Sapphire Rapids, 1 thread, Q4_0: 12 tokens 4.18 vs 3.95 GB/s of
// weights, 16 tokens 3.24 vs 4.72).
constexpr int kMinTail = 13;
constexpr int kChunk = 32;  // blocks unpacked at once: 32 x 512 bytes of B tiles

// Tiles: 0, 1 = C (16 x 16 int32); 2, 3 = A (16 tokens x 32 bytes); 4, 5 = B (8 x 64 bytes).
alignas(64) constexpr TileConfig kInt8Tiles = {1,
                                               0,
                                               {},
                                               {64, 64, 32, 32, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                               {16, 16, 16, 16, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};

void ConfigureInt8Tiles() {
  OC_TILE_LOADCONFIG(&kInt8Tiles);
}

// One block of a group pair -> its B tile (row k = the 4-element group k of every one of
// the 16 rows, as X8GroupPair's weight register k holds them, offset removed) and the 16
// rows' scales (and mins).
template <X8Kind K>
inline void UnpackPair(const uint8_t* blk0, const uint8_t* blk1, int8_t* tile, float* scales, float* mins) {
  using F = X8Fmt<K>;
  _mm512_store_ps(scales, X8Scales2<K>(blk0, blk1));
  if constexpr (F::kHasMin) _mm512_store_ps(mins, X8Mins2(blk0 + F::kMin, blk1 + F::kMin));
  __m512i w[8];
  X8Unpack2<K>(blk0, blk1, w);  // the VNNI kernel's weight registers
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(F::kOffset));
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    _mm512_store_si512(tile + 64 * k, _mm512_sub_epi8(w[k], offset));  // u8 - offset wraps to s8 (Q8_0: -128)
  }
}

// What one tile of up to 16 tokens needs: its A tiles (amx_tokens.h), each token's
// scales and outputs.
struct TokenTile {
  const uint8_t* x;  // token 0's kQ8 row (qs first)
  size_t x_row_bytes;
  ATiles a;  // the chunk's block j at a.base + j * a.unit_step
  int rows;  // tokens in the tile
  const float* d[kTokTile];
  const float* s[kTokTile];  // activation block sums (d * sum of qs), for the mins
  float* y;                  // token 0's outputs for the pair's 16 rows
  size_t y_stride;
};

// acc[t] += (C's row t, converted) * (scales * d_t[b]) [then += mins * s_t[b]]:
// X8GroupPair's epilogue, per block.
template <bool kHasMin>
__attribute__((always_inline)) inline void Epilogue(const int32_t* c, const float* scales, const float* mins,
                                                    const TokenTile& tt, int b, __m512* acc) {
  const __m512 dw = _mm512_load_ps(scales);
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(tt.d[t][b]));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * t)), scale, acc[t]);
    if constexpr (kHasMin) acc[t] = _mm512_fmadd_ps(_mm512_load_ps(mins), _mm512_set1_ps(tt.s[t][b]), acc[t]);
  }
}

// Blocks [b0, b0 + n) of one token tile against the unpacked chunk; acc continues the
// per-lane sums of earlier chunks (stored in y between them: a float round trip is exact).
// A chunk's unpacked weights: B tiles (512 bytes a block), 16 scales and mins a block.
struct UnpackedChunk {
  const int8_t* tiles;
  const float* scales;
  const float* mins;
};

template <bool kHasMin>
void TileChunk(const TokenTile& tt, const UnpackedChunk& w, int b0, int n, bool first) {
  __m512 acc[kTokTile];
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    acc[t] = first || t >= tt.rows ? _mm512_setzero_ps() : _mm512_loadu_ps(tt.y + t * tt.y_stride);
  }
  alignas(64) int32_t c[2][16 * 16];
  // Tiles are not renamed: block j + 2's product is issued into C0 only after block j's
  // sums left it, and runs while they are converted (blocks alternate C0 and C1).
  auto issue0 = [&](int j) {
    OC_TILE_LOADD(2, tt.a.base + tt.a.unit_step * j, tt.a.stride);
    OC_TILE_LOADD(4, w.tiles + 512 * j, 64);
    OC_TILE_ZERO(0);
    OC_TILE_DPBSSD(0, 2, 4);
  };
  auto issue1 = [&](int j) {
    OC_TILE_LOADD(3, tt.a.base + tt.a.unit_step * j, tt.a.stride);
    OC_TILE_LOADD(5, w.tiles + 512 * j, 64);
    OC_TILE_ZERO(1);
    OC_TILE_DPBSSD(1, 3, 5);
  };
  issue0(0);
  if (n > 1) issue1(1);
  for (int j = 0; j < n; j += 2) {
    // The 16 rows' cache line of blocks j + kAhead, j + kAhead + 1 (tile loads stride
    // across rows, which the hardware prefetchers do not follow).
    constexpr int kAhead = 8;
    if (tt.rows == kTokTile && j + kAhead < n) {
#pragma GCC unroll 16
      for (int t = 0; t < kTokTile; ++t) _mm_prefetch(tt.x + t * tt.x_row_bytes + 32 * (b0 + j + kAhead), _MM_HINT_T0);
    }
    OC_TILE_STORED(0, c[0], 64);
    if (j + 2 < n) issue0(j + 2);
    Epilogue<kHasMin>(c[0], w.scales + 16 * j, kHasMin ? w.mins + 16 * j : nullptr, tt, b0 + j, acc);
    if (j + 1 < n) {
      OC_TILE_STORED(1, c[1], 64);
      if (j + 3 < n) issue1(j + 3);
      Epilogue<kHasMin>(c[1], w.scales + 16 * (j + 1), kHasMin ? w.mins + 16 * (j + 1) : nullptr, tt, b0 + j + 1, acc);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    if (t < tt.rows) _mm512_storeu_ps(tt.y + t * tt.y_stride, acc[t]);
  }
}

// Rows 16 g .. 16 g + 15 (groups g, g + 1) for tokens [0, n_tok): tiles of 16, the last
// one possibly shorter.
template <X8Kind K>
void AmxPair(const MatMulArgs& a, int g, int n_tok) {
  using F = X8Fmt<K>;
  const int nb = a.in_dim / 32;
  const uint8_t* base0 = a.w + static_cast<size_t>(g) * 8 * a.w_row_bytes;
  const uint8_t* base1 = base0 + 8 * a.w_row_bytes;
  alignas(64) int8_t tiles[kChunk * 512];
  alignas(64) float scales[kChunk * 16];
  alignas(64) float mins[F::kHasMin ? kChunk * 16 : 1];
  alignas(64) uint8_t apack[kChunk * 512];  // the short tile's A: [block][16 rows][32 bytes]
  const int rem = n_tok % kTokTile;
  if (rem) std::memset(apack, 0, sizeof(apack));
  for (int b0 = 0; b0 < nb; b0 += kChunk) {
    const int n = nb - b0 < kChunk ? nb - b0 : kChunk;
    for (int j = 0; j < n; ++j) {
      UnpackPair<K>(base0 + (b0 + j) * F::kBlock, base1 + (b0 + j) * F::kBlock, tiles + 512 * j, scales + 16 * j,
                    F::kHasMin ? mins + 16 * j : nullptr);
    }
    for (int t0 = 0; t0 < n_tok; t0 += kTokTile) {
      TokenTile tt;
      tt.x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
      tt.x_row_bytes = a.x_row_bytes;
      tt.rows = n_tok - t0 < kTokTile ? n_tok - t0 : kTokTile;
      for (int t = 0; t < kTokTile; ++t) {
        const ActQ8View v = ViewActQ8(tt.x + (t < tt.rows ? t : 0) * a.x_row_bytes, a.in_dim);
        tt.d[t] = v.d;
        tt.s[t] = v.s;
      }
      tt.a = TokenATiles({tt.x, a.x_row_bytes, tt.rows}, 32 * b0, n, 32, apack);
      tt.y = a.y + static_cast<size_t>(t0) * a.y_stride + 8 * g;
      tt.y_stride = a.y_stride;
      TileChunk<F::kHasMin>(tt, {tiles, scales, mins}, b0, n, b0 == 0);
    }
  }
}

template <X8Kind K>
void AmxX8MatMul(const MatMulArgs& a, int row_begin, int row_end) {
  const int on_tiles = TokensOnTiles(a.n_tokens, kMinTail);
  int g = row_begin / 8;
  const int g_end = row_end / 8, pairs_end = g + (g_end - g) / 2 * 2;
  if (on_tiles == 0 || pairs_end == g) {
    X8MatMul<K>(a, row_begin, row_end);
    return;
  }
  ConfigureInt8Tiles();
  for (; g < pairs_end; g += 2) AmxPair<K>(a, g, on_tiles);
  OC_TILE_RELEASE();
  if (on_tiles < a.n_tokens) X8MatMul<K>(TokensFrom(a, on_tiles), row_begin, pairs_end * 8);  // the rest
  if (pairs_end < g_end) X8MatMul<K>(a, pairs_end * 8, row_end);                              // an odd last group
}

}  // namespace

namespace OC_AMX_NS {
void FillAmxInt8Kernels(KernelTable* t) {
  t->isa = "amx";
  t->matmul[static_cast<uint32_t>(DType::kQ4_0)].matmul_x8 = &AmxX8MatMul<X8Kind::kQ4_0>;
  t->matmul[static_cast<uint32_t>(DType::kQ4_1)].matmul_x8 = &AmxX8MatMul<X8Kind::kQ4_1>;
  t->matmul[static_cast<uint32_t>(DType::kQ5_0)].matmul_x8 = &AmxX8MatMul<X8Kind::kQ5_0>;
  t->matmul[static_cast<uint32_t>(DType::kQ5_1)].matmul_x8 = &AmxX8MatMul<X8Kind::kQ5_1>;
  t->matmul[static_cast<uint32_t>(DType::kQ8_0)].matmul_x8 = &AmxX8MatMul<X8Kind::kQ8_0>;
  t->matmul[static_cast<uint32_t>(DType::kMXFP4)].matmul_x8 = &AmxX8MatMul<X8Kind::kMxfp4>;
  FillAmxInt8KMatMul(t);
  FillAmxInt8Q6KMatMul(t);
}
}  // namespace OC_AMX_NS

}  // namespace omnicoder
