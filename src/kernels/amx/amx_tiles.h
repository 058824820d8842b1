// What the amx/ files share: the tile configuration block (LDTILECFG's 64-byte operand)
// and the tile instructions, as macros so that the same code compiles two ways:
// - natively (kernels/amx/*.cc): the AMX intrinsics, in namespace amx_native;
// - emulated (kernels/amx_emulated/*.cc define OC_AMX_EMULATED): each tile instruction
//   done by the scalar tile emulator, in namespace amx_emulated -- the kernels' code
//   tested on CPUs without AMX.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/kernel_table.h"

#if defined(OC_AMX_EMULATED)
#include "kernels/amx_emulated/emulated_table.h"  // the amx_emulated fills
#include "kernels/amx_emulated/tile_emulator.h"
#define OC_AMX_NS amx_emulated
#define OC_TILE_LOADCONFIG(config) tile_emulator::LoadConfig(config)
#define OC_TILE_RELEASE() tile_emulator::Release()
#define OC_TILE_LOADD(t, base, stride) tile_emulator::Load(t, base, stride)
#define OC_TILE_STORED(t, base, stride) tile_emulator::Store(t, base, stride)
#define OC_TILE_ZERO(t) tile_emulator::Zero(t)
#define OC_TILE_DPBSSD(c, a, b) tile_emulator::DotS8S8(c, a, b)
#define OC_TILE_DPBSUD(c, a, b) tile_emulator::DotS8U8(c, a, b)
#define OC_TILE_DPBF16PS(c, a, b) tile_emulator::DotBf16(c, a, b)
#else
#define OC_AMX_NS amx_native  // fills declared in kernel_table.h
#define OC_TILE_LOADCONFIG(config) _tile_loadconfig(config)
#define OC_TILE_RELEASE() _tile_release()
#define OC_TILE_LOADD(t, base, stride) _tile_loadd(t, base, stride)
#define OC_TILE_STORED(t, base, stride) _tile_stored(t, base, stride)
#define OC_TILE_ZERO(t) _tile_zero(t)
#define OC_TILE_DPBSSD(c, a, b) _tile_dpbssd(c, a, b)
#define OC_TILE_DPBSUD(c, a, b) _tile_dpbsud(c, a, b)
#define OC_TILE_DPBF16PS(c, a, b) _tile_dpbf16ps(c, a, b)
#endif

namespace omnicoder {

// Palette 1: per tile its bytes per row and its rows. Configurations are constants in
// memory: GCC 12 may drop stores to a local block before _tile_loadconfig (it does not
// model the instruction reading all 64 bytes).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// FillAmxInt8Kernels' K-quant and Q6_K parts (matmul_amx_k.cc, matmul_amx_q6k.cc), in the
// namespace of the build (the fills users call are declared in kernel_table.h and
// amx_emulated/emulated_table.h).
namespace OC_AMX_NS {
void FillAmxInt8KMatMul(KernelTable* t);
void FillAmxInt8Q6KMatMul(KernelTable* t);
}  // namespace OC_AMX_NS

}  // namespace omnicoder
