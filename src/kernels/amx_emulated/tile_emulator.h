// A scalar emulator of the AMX tile instructions the amx/ kernels use, so that their code
// (tile layouts, packing, short tiles, chunking) is tested on every CPU with the vector
// extensions around the tiles (AVX-512 VNNI and BF16), not only where AMX exists.
//
// Each thread has its own 8 tiles and configuration, as on the hardware. The operations
// follow the Intel SDM's pseudo-code for LDTILECFG, TILELOADD, TILESTORED, TILEZERO,
// TILERELEASE, TDPBSSD / TDPBSUD / TDPBUSD / TDPBUUD (exact 32-bit sums, wrapping) and
// TDPBF16PS (exact products, each addition rounded to nearest even in f32, denormal
// inputs and results flushed to zero; the integer ones are exact by definition, the BF16
// rounding is the SDM's and has not been compared with a CPU here). Where the CPU
// would fault (#UD / #GP: no or invalid configuration, shapes that do not chain, a tile
// used as two operands), the operation does nothing and is counted in Faults().
#pragma once

#include <cstdint>

namespace omnicoder::tile_emulator {

void LoadConfig(const void* config);  // the 64-byte LDTILECFG operand; zeroes every tile
void Release();                       // TILERELEASE: unconfigured, tiles zero
void Load(int tile, const void* base, long stride);
void Store(int tile, void* base, long stride);
void Zero(int tile);
// tile c += a . b over 4-byte groups; the letters say which operands are signed.
void DotS8S8(int c, int a, int b);
void DotS8U8(int c, int a, int b);
void DotU8S8(int c, int a, int b);
void DotU8U8(int c, int a, int b);
void DotBf16(int c, int a, int b);  // f32 tile c += bf16 pairs of a . bf16 pairs of b

// Operations on this thread that the CPU would have faulted on, and the last one's reason.
uint64_t Faults();
const char* LastFault();

}  // namespace omnicoder::tile_emulator
