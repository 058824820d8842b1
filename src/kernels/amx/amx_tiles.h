// The AMX tile configuration block (LDTILECFG's 64-byte operand), shared by the amx/ files.
#pragma once

#include <cstdint>

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

}  // namespace omnicoder
