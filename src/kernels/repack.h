// Interleaved 8-row weight layouts ("x8"), made once at load so matmuls can process 8
// rows per instruction with the activations broadcast.
//
// Design: rows r..r+7 keep their combined byte range (a matrix's size and group
// offsets do not change, so repacking is in place). Per block index b a group holds
// the 8 rows' f16 scales, then the quants in 4-byte groups: chunk k = [row0 bytes
// 4k..4k+3, row1 ..., row7 ...]. A 32-bit lane of a SIMD register then belongs to one
// row and a dot product needs no horizontal sum. Q8_0 quants are stored +128 (u8) so
// the u8 x s8 instructions apply; the kernel subtracts 128 * sum(x) per block. MXFP4 is
// laid out like Q4_0 with a one-byte (E8M0) scale: 8 scale bytes, then the 4 chunks.
// Q4_1 / Q5_0 / Q5_1 put each header field of the 8 rows side by side in the block's
// order (8 d, [8 m], [8 high-bit words]), then the 4 chunks; a Q5 high-bit word is
// re-ordered so byte j carries the bits of the 8 elements in byte j of the 4 chunks
// (bit k: chunk k's low nibble, bit 4 + k: its high nibble).
//
// K formats keep each block's bytes too (in place): Q4_K block group = 8 d, 8 dmin (f16),
// the 12 packed scale bytes as three 4-byte words per row (all rows' word 0, then word
// 1, word 2), then 4 chunks of 64 elements, each as 8 four-byte groups x 8 rows (low
// nibbles = first 32 elements, high = next 32). Q5_K block group = Q4_K's, then the 32
// high-bit bytes per row as 8 four-byte groups x 8 rows (byte l's bit j is element l of
// sub-block j, so group k serves quant group k of every chunk). Q6_K block group = 8 d
// (f16), the 16 int8 scales as [sub-block][row], then ql (32 groups of 4 bytes x 8 rows)
// and qh (16 groups x 8 rows).
// Non-goals: rows % 8 != 0 (left row-major).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace omnicoder {

enum class WeightLayout : uint8_t { kRows = 0, kInterleaved8 = 1 };

// Whether a [rows, cols] matrix of `type` has an interleaved form.
bool CanInterleave8(DType type, int rows, int cols);
// Rewrites the matrix in place (rows % 8 == 0).
void Interleave8(DType type, uint8_t* data, int rows, size_t row_bytes);
// Inverse, for tests.
void Deinterleave8(DType type, uint8_t* data, int rows, size_t row_bytes);
// Rebuilds row i (0..7) of block b of an interleaved group in the row-major block format.
void ExtractInterleavedBlock(DType type, const uint8_t* group, int b, int i, uint8_t* block);

}  // namespace omnicoder
