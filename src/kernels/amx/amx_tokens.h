// Where a tile of up to 16 tokens takes its A tiles from (shared by the amx/ matmuls).
//
// A full tile reads A in place: unit u (a block's or a 64-element step's activation
// bytes) of the 16 tokens at x + first + u * unit_bytes, rows x_row_bytes apart. A last
// tile of fewer tokens reads a packed copy, [unit][16 rows][unit_bytes], whose missing
// rows are zero: their sums are computed and never stored, the real rows' are unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"

namespace omnicoder {

constexpr int kAmxTokTile = 16;

struct ATiles {
  const uint8_t* base;  // unit u's A tile at base + u * unit_step
  size_t unit_step;
  long stride;  // bytes between the tile's rows
};

// A tile's tokens: `rows` kQ8/kQ8K rows from x, x_row_bytes apart.
struct TokenRows {
  const uint8_t* x;
  size_t x_row_bytes;
  int rows;
};

// Units [first, first + n_units * unit_bytes) of the tokens' rows: in place over 16
// tokens, or packed into `pack` (whose rows >= t.rows are zero).
inline ATiles TokenATiles(const TokenRows& t, size_t first, int n_units, int unit_bytes, uint8_t* pack) {
  if (t.rows == kAmxTokTile) return {t.x + first, static_cast<size_t>(unit_bytes), static_cast<long>(t.x_row_bytes)};
  const size_t step = static_cast<size_t>(kAmxTokTile) * unit_bytes;
  for (int u = 0; u < n_units; ++u) {
    for (int r = 0; r < t.rows; ++r) {
      std::memcpy(pack + u * step + static_cast<size_t>(r) * unit_bytes,
                  t.x + r * t.x_row_bytes + first + static_cast<size_t>(u) * unit_bytes, unit_bytes);
    }
  }
  return {pack, step, static_cast<long>(unit_bytes)};
}

// Tokens on tiles out of n: all of them when the last short tile has min_tail or more,
// else the full tiles (the few left go through the ISA's vector kernel).
inline int TokensOnTiles(int n, int min_tail) {
  const int full = n / kAmxTokTile * kAmxTokTile;
  return n - full >= min_tail ? n : full;
}

// The same product for tokens [first, n) of a.
inline MatMulArgs TokensFrom(const MatMulArgs& a, int first) {
  MatMulArgs rest = a;
  rest.x = a.x + static_cast<size_t>(first) * a.x_row_bytes;
  rest.y = a.y + static_cast<size_t>(first) * a.y_stride;
  rest.n_tokens = a.n_tokens - first;
  return rest;
}

}  // namespace omnicoder
