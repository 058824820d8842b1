// AMX-INT8 prefill over row-major Q6_K weights with kQ8K activations.
//
// A Q6_K row needs per 256-element super-block the exact integer
//   isum = sum_j sc_j * sum_{k in j} (q_k - 32) x_k     (16-element sub-blocks j, sc_j int8)
// which the AVX-512 kernel (matmul_k_impl.h's Q6Row) forms sub-block by sub-block. q (6 bits)
// times an 8-bit scale does not fit a byte, so the scale is offset to u = sc + 128 and
// written in base 4 (u = d0 + 4 d1 + 16 d2 + 64 d3): q * d_i <= 189 is an unsigned byte,
// and
//   isum = P0 + 4 P1 + 16 P2 + 64 P3 - 128 Pq - 32 Ps
// with P_i = sum q d_i x, Pq = sum q x (TDPBSUD: signed activations, unsigned weights) and
// Ps = sum sc x (TDPBSSD), each a tile product over the whole super-block. The integer is
// the same, and each lane gets the same conversion, scale product and FMA as that kernel's,
// so results are bitwise equal to it. A last tile of kMinTail to 15 tokens multiplies a
// zero-padded copy of its activation bytes; fewer tokens left, and rows past the last run
// of 16, go through that kernel directly.
#pragma once
#define OC_X86_VNNI 1
#include <cstdint>
#include <cstring>

#include "kernels/amx/amx_tiles.h"
#include "kernels/amx/amx_tokens.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/matmul_k_impl.h"
#include "tensor/blocks.h"

namespace omnicoder {

namespace {

constexpr int kTokTile = kAmxTokTile;
// Fewest tokens a short last tile takes; fewer go through the row kernel (kernels_bench,
// Sapphire Rapids, 1 thread: 12 tokens 2.24 vs 1.81 GB/s of weights, 16 tokens 1.42 vs 1.63).
constexpr int kMinTail = 14;
constexpr int kProducts = 6;                           // P0..P3, Pq, Ps
constexpr int kSuperTileBytes = 4 * kProducts * 1024;  // 4 steps of 64 elements

// Tiles 0-5: C of P0..P3, Pq, Ps; 6: A (16 tokens x 64 bytes); 7: B. All 16 x 64 bytes.
alignas(64) constexpr TileConfig kQ6KTiles = {1,
                                              0,
                                              {},
                                              {64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0},
                                              {16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0}};

// The 16 rows' blocks of one super-block (row-major Q6_K): lane n of a gather reads row n.
struct RowsQ6K {
  const uint8_t* blk;  // row 0's block
  __m512i idx;         // n * row_bytes
  __m512i Dword(int off) const { return _mm512_i32gather_epi32(idx, blk + off, 1); }
};

// Sub-block scales sc_j of the 16 rows, sign-extended into 32-bit lanes (dwords read at
// 4-aligned offsets inside scales[16], never past the block).
inline void Scales16(const RowsQ6K& r, __m512i* sc) {
#pragma GCC unroll 4
  for (int w = 0; w < 4; ++w) {
    const __m512i v = r.Dword(192 + 4 * w);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) sc[4 * w + i] = _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * i), 24);
  }
}

// The low byte of each 32-bit lane repeated into its 4 bytes.
inline __m512i Repeat4(__m512i v) {
  return _mm512_mullo_epi32(_mm512_and_si512(v, _mm512_set1_epi32(0xFF)), _mm512_set1_epi32(0x01010101));
}

// q (bytes <= 63) times m (bytes <= 3, the same in the 4 bytes of a lane), bytewise.
inline __m512i MulByte(__m512i q, __m512i m) {
  const __m512i lo8 = _mm512_set1_epi16(0x00FF);
  const __m512i mm = _mm512_and_si512(m, lo8);
  const __m512i even = _mm512_mullo_epi16(_mm512_and_si512(q, lo8), mm);
  const __m512i odd = _mm512_mullo_epi16(_mm512_srli_epi16(q, 8), mm);
  return _mm512_or_si512(_mm512_and_si512(even, lo8), _mm512_slli_epi16(odd, 8));
}

// B row `row` of every product of one step for 4-element groups q (16 rows x 4 bytes).
inline void StoreRow(int8_t* step, int row, __m512i q, __m512i sc) {
  const __m512i u = _mm512_add_epi32(sc, _mm512_set1_epi32(128));
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512i digit = Repeat4(_mm512_and_si512(_mm512_srli_epi32(u, 2 * i), _mm512_set1_epi32(3)));
    _mm512_store_si512(step + i * 1024 + 64 * row, MulByte(q, digit));
  }
  _mm512_store_si512(step + 4 * 1024 + 64 * row, q);
  _mm512_store_si512(step + 5 * 1024 + 64 * row, Repeat4(sc));
}

// One super-block of 16 rows -> 4 steps x 6 B tiles, and the rows' d. Step (h, gp) holds
// elements 128 h + 64 gp ..: B row 8 (g & 1) + kk is 4-element group kk of 32-element
// group g = 2 gp + (g & 1), whose levels come from ql[64 h + 32 (g & 1) + 4 kk] (low
// nibbles for g < 2, high for g >= 2) and bits 2g of qh[32 h + 4 kk], as ggml lays them out.
void UnpackSuper(const RowsQ6K& r, int8_t* tiles, float* d) {
  _mm512_store_ps(d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(r.Dword(206), 16))));
  __m512i sc[16];
  Scales16(r, sc);
  const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x03);
  for (int h = 0; h < 2; ++h) {
    for (int kk = 0; kk < 8; ++kk) {
      const __m512i l[2] = {r.Dword(64 * h + 4 * kk), r.Dword(64 * h + 32 + 4 * kk)};
      const __m512i qh = r.Dword(128 + 32 * h + 4 * kk);
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m512i low =
            g < 2 ? _mm512_and_si512(l[g & 1], m4) : _mm512_and_si512(_mm512_srli_epi16(l[g & 1], 4), m4);
        const __m512i top = _mm512_and_si512(_mm512_srli_epi16(qh, 2 * g), m3);
        const __m512i q = _mm512_or_si512(low, _mm512_slli_epi16(top, 4));
        int8_t* step = tiles + (2 * h + g / 2) * kProducts * 1024;
        StoreRow(step, 8 * (g & 1) + kk, q, sc[8 * h + 2 * g + kk / 4]);
      }
    }
  }
}

struct TokenTileQ6K {
  ATiles a;  // the super-block's step s at a.base + s * a.unit_step
  int rows;  // tokens in the tile (amx_tokens.h)
  const float* dx[kTokTile];
  float* y;
  size_t y_stride;
};

// acc[t] += isum * (d * dx), as Q6KX8Token does per lane.
__attribute__((always_inline)) inline void EpilogueQ6K(const int32_t* c, const float* d, const TokenTileQ6K& tt, int b,
                                                       __m512* acc) {
  const __m512 vd = _mm512_load_ps(d);
#pragma GCC unroll 16
  for (int t = 0; t < kTokTile; ++t) {
    auto p = [&](int i) { return _mm512_load_si512(c + 256 * i + 16 * t); };
    __m512i isum = _mm512_add_epi32(p(0), _mm512_slli_epi32(p(1), 2));
    isum = _mm512_add_epi32(isum, _mm512_slli_epi32(p(2), 4));
    isum = _mm512_add_epi32(isum, _mm512_slli_epi32(p(3), 6));
    isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(p(4), 7));
    isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(p(5), 5));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(vd, _mm512_set1_ps(tt.dx[t][b])), acc[t]);
  }
}

// Super-block b of one token tile; acc continues the earlier super-blocks' sums.
void TileSuper(const TokenTileQ6K& tt, const int8_t* tiles, const float* d, int b, __m512* acc) {
  alignas(64) int32_t c[kProducts * 256];
  OC_TILE_ZERO(0);
  OC_TILE_ZERO(1);
  OC_TILE_ZERO(2);
  OC_TILE_ZERO(3);
  OC_TILE_ZERO(4);
  OC_TILE_ZERO(5);
  for (int s = 0; s < 4; ++s) {
    const int8_t* st = tiles + s * kProducts * 1024;
    OC_TILE_LOADD(6, tt.a.base + s * tt.a.unit_step, tt.a.stride);
    OC_TILE_LOADD(7, st, 64);
    OC_TILE_DPBSUD(0, 6, 7);
    OC_TILE_LOADD(7, st + 1024, 64);
    OC_TILE_DPBSUD(1, 6, 7);
    OC_TILE_LOADD(7, st + 2048, 64);
    OC_TILE_DPBSUD(2, 6, 7);
    OC_TILE_LOADD(7, st + 3072, 64);
    OC_TILE_DPBSUD(3, 6, 7);
    OC_TILE_LOADD(7, st + 4096, 64);
    OC_TILE_DPBSUD(4, 6, 7);
    OC_TILE_LOADD(7, st + 5120, 64);
    OC_TILE_DPBSSD(5, 6, 7);
  }
  OC_TILE_STORED(0, c, 64);
  OC_TILE_STORED(1, c + 256, 64);
  OC_TILE_STORED(2, c + 512, 64);
  OC_TILE_STORED(3, c + 768, 64);
  OC_TILE_STORED(4, c + 1024, 64);
  OC_TILE_STORED(5, c + 1280, 64);
  EpilogueQ6K(c, d, tt, b, acc);
}

// Rows r0 .. r0 + 15 for tokens [0, n_tok) in tiles of 16 (the last possibly shorter):
// one super-block is unpacked at a time (24 KiB of B tiles) and serves every token tile.
void AmxRowsQ6K(const MatMulArgs& a, int r0, int n_tok) {
  const int nb = a.in_dim / 256;
  RowsQ6K rows;
  rows.idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                _mm512_set1_epi32(static_cast<int>(a.w_row_bytes)));
  alignas(64) int8_t tiles[kSuperTileBytes];
  alignas(64) float d[16];
  alignas(64) uint8_t apack[4 * 1024];  // a short tile's A (amx_tokens.h)
  if (n_tok % kTokTile) std::memset(apack, 0, sizeof(apack));
  for (int b = 0; b < nb; ++b) {
    rows.blk = a.w + static_cast<size_t>(r0) * a.w_row_bytes + static_cast<size_t>(b) * sizeof(BlockQ6_K);
    UnpackSuper(rows, tiles, d);
    for (int t0 = 0; t0 < n_tok; t0 += kTokTile) {
      TokenTileQ6K tt;
      const uint8_t* x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
      tt.rows = n_tok - t0 < kTokTile ? n_tok - t0 : kTokTile;
      tt.a = TokenATiles({x, a.x_row_bytes, tt.rows}, 256 * b, 4, 64, apack);
      for (int t = 0; t < kTokTile; ++t) tt.dx[t] = ViewActQ8K(x + (t < tt.rows ? t : 0) * a.x_row_bytes, a.in_dim).d;
      tt.y = a.y + static_cast<size_t>(t0) * a.y_stride + r0;
      tt.y_stride = a.y_stride;
      __m512 acc[kTokTile];
#pragma GCC unroll 16
      for (int t = 0; t < kTokTile; ++t) {
        acc[t] = b == 0 || t >= tt.rows ? _mm512_setzero_ps() : _mm512_loadu_ps(tt.y + t * tt.y_stride);
      }
      TileSuper(tt, tiles, d, b, acc);
#pragma GCC unroll 16
      for (int t = 0; t < kTokTile; ++t) {
        if (t < tt.rows) _mm512_storeu_ps(tt.y + t * tt.y_stride, acc[t]);
      }
    }
  }
}

// Row-major Q6_K (the tile loads gather rows, so the amx level does not repack Q6_K):
// rows in runs of 16 on tiles, the rest through KMatMul.
void AmxQ6KMatMul(const MatMulArgs& a, int row_begin, int row_end) {
  const int on_tiles = TokensOnTiles(a.n_tokens, kMinTail);
  const int runs_end = row_begin + (row_end - row_begin) / 16 * 16;
  // Gather offsets are int32: 15 rows must be within 2 GiB (always, for real shapes).
  if (on_tiles == 0 || runs_end == row_begin || a.w_row_bytes > (size_t{1} << 27)) {
    KMatMul<Q6KRow>(a, row_begin, row_end);
    return;
  }
  OC_TILE_LOADCONFIG(&kQ6KTiles);
  for (int r = row_begin; r < runs_end; r += 16) AmxRowsQ6K(a, r, on_tiles);
  OC_TILE_RELEASE();
  if (on_tiles < a.n_tokens) KMatMul<Q6KRow>(TokensFrom(a, on_tiles), row_begin, runs_end);  // the rest
  if (runs_end < row_end) KMatMul<Q6KRow>(a, runs_end, row_end);
}

}  // namespace

namespace OC_AMX_NS {
void FillAmxInt8Q6KMatMul(KernelTable* t) {
  t->matmul[static_cast<uint32_t>(DType::kQ6_K)].matmul = &AmxQ6KMatMul;
  t->matmul[static_cast<uint32_t>(DType::kQ6_K)].prefer_x8 = false;
}
}  // namespace OC_AMX_NS

}  // namespace omnicoder
