// x8 repacking of Q4_0 and Q8_0 matrices.
#include "kernels/repack.h"

#include <cstring>
#include <vector>

#include "tensor/blocks.h"

namespace omnicoder {

namespace {

// Quant bytes per block and the value added to each byte when interleaving.
struct X8Format {
  size_t block_bytes;
  size_t quant_bytes;
  uint8_t bias;
};

bool Format(DType type, X8Format* f) {
  if (type == DType::kQ4_0) {
    *f = {sizeof(BlockQ4_0), 16, 0};
    return true;
  }
  if (type == DType::kQ8_0) {
    *f = {sizeof(BlockQ8_0), 32, 0x80};
    return true;
  }
  return false;
}

// Moves one 8-row group between layouts (to_x8 selects the direction) via a temp copy.
void ConvertGroup(const X8Format& f, uint8_t* group, size_t row_bytes, bool to_x8, std::vector<uint8_t>* tmp) {
  const size_t nb = row_bytes / f.block_bytes;
  tmp->assign(group, group + 8 * row_bytes);
  const uint8_t* src = tmp->data();
  for (size_t b = 0; b < nb; ++b) {
    uint8_t* xb = group + b * 8 * f.block_bytes;  // interleaved block b
    for (int i = 0; i < 8; ++i) {
      const size_t rb = i * row_bytes + b * f.block_bytes;  // row-major block
      if (to_x8) {
        std::memcpy(xb + 2 * i, src + rb, 2);
        for (size_t k = 0; k < f.quant_bytes / 4; ++k) {
          for (int j = 0; j < 4; ++j) xb[16 + 32 * k + 4 * i + j] = src[rb + 2 + 4 * k + j] ^ f.bias;
        }
      } else {
        const uint8_t* sb = src + b * 8 * f.block_bytes;
        std::memcpy(group + rb, sb + 2 * i, 2);
        for (size_t k = 0; k < f.quant_bytes / 4; ++k) {
          for (int j = 0; j < 4; ++j) group[rb + 2 + 4 * k + j] = sb[16 + 32 * k + 4 * i + j] ^ f.bias;
        }
      }
    }
  }
}

}  // namespace

bool CanInterleave8(DType type, int rows, int cols) {
  X8Format f;
  return Format(type, &f) && rows > 0 && rows % 8 == 0 && cols % 32 == 0;
}

void Interleave8(DType type, uint8_t* data, int rows, size_t row_bytes) {
  X8Format f;
  if (!Format(type, &f)) return;
  std::vector<uint8_t> tmp;
  for (int g = 0; g < rows / 8; ++g) ConvertGroup(f, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, true, &tmp);
}

void Deinterleave8(DType type, uint8_t* data, int rows, size_t row_bytes) {
  X8Format f;
  if (!Format(type, &f)) return;
  std::vector<uint8_t> tmp;
  for (int g = 0; g < rows / 8; ++g) ConvertGroup(f, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, false, &tmp);
}

}  // namespace omnicoder
