// x8 repacking of Q4_0, Q8_0, MXFP4 and Q4_K / Q5_K / Q6_K matrices.
#include "kernels/repack.h"

#include <cstring>
#include <vector>

#include "tensor/blocks.h"

namespace omnicoder {

namespace {

// Quant bytes per block, the value added to each byte when interleaving, and the bytes
// of the block's scale (f16 or E8M0), which lead each row's block.
struct X8Format {
  size_t block_bytes;
  size_t quant_bytes;
  uint8_t bias;
  size_t scale_bytes;
};

bool Format(DType type, X8Format* f) {
  if (type == DType::kQ4_0) {
    *f = {sizeof(BlockQ4_0), 16, 0, 2};
    return true;
  }
  if (type == DType::kQ8_0) {
    *f = {sizeof(BlockQ8_0), 32, 0x80, 2};
    return true;
  }
  if (type == DType::kMXFP4) {
    *f = {sizeof(BlockMxfp4), 16, 0, 1};
    return true;
  }
  return false;
}

// Moves one 8-row group between layouts (to_x8 selects the direction) via a temp copy;
// quants move 4 bytes at a time (XOR with the bias in each byte).
void ConvertGroup(const X8Format& f, uint8_t* group, size_t row_bytes, bool to_x8, std::vector<uint8_t>* tmp) {
  const size_t nb = row_bytes / f.block_bytes;
  tmp->assign(group, group + 8 * row_bytes);
  const uint8_t* src = tmp->data();
  const uint32_t bias = f.bias * 0x01010101u;
  for (size_t b = 0; b < nb; ++b) {
    for (int i = 0; i < 8; ++i) {
      const size_t rb = i * row_bytes + b * f.block_bytes;  // row-major block
      const size_t xb = b * 8 * f.block_bytes;              // interleaved block
      const uint8_t* from = to_x8 ? src + rb : src + xb;
      uint8_t* to = to_x8 ? group + xb : group + rb;
      const size_t sb = f.scale_bytes;
      std::memcpy(to_x8 ? to + sb * i : to, to_x8 ? from : from + sb * i, sb);
      for (size_t k = 0; k < f.quant_bytes / 4; ++k) {
        uint32_t v;
        const size_t row_off = sb + 4 * k, x8_off = 8 * sb + 32 * k + 4 * i;
        std::memcpy(&v, from + (to_x8 ? row_off : x8_off), 4);
        v ^= bias;
        std::memcpy(to + (to_x8 ? x8_off : row_off), &v, 4);
      }
    }
  }
}

// One K block of row i moved between its row-major form `rm` and interleaved group block `x8`.
void MoveKBlock(DType type, uint8_t* rm, uint8_t* x8, int i, bool to_x8) {
  auto mv = [&](size_t rm_off, size_t x8_off, size_t n) {
    if (to_x8) {
      std::memcpy(x8 + x8_off, rm + rm_off, n);
    } else {
      std::memcpy(rm + rm_off, x8 + x8_off, n);
    }
  };
  if (type == DType::kQ4_K || type == DType::kQ5_K) {
    const size_t qs = type == DType::kQ5_K ? 48 : 16;                      // Q5_K: qh[32] first
    mv(0, 2 * i, 2);                                                       // d
    mv(2, 16 + 2 * i, 2);                                                  // dmin
    for (int w = 0; w < 3; ++w) mv(4 + 4 * w, 32 + 32 * w + 4 * i, 4);     // scale words
    for (int k = 0; k < 32; ++k) mv(qs + 4 * k, 128 + 32 * k + 4 * i, 4);  // quants
    if (type == DType::kQ5_K) {
      for (int k = 0; k < 8; ++k) mv(16 + 4 * k, 1152 + 32 * k + 4 * i, 4);  // high bits
    }
  } else {  // Q6_K: ql[128] qh[64] scales[16] d
    mv(208, 2 * i, 2);
    for (int j = 0; j < 16; ++j) mv(192 + j, 16 + 8 * j + i, 1);
    for (int k = 0; k < 32; ++k) mv(4 * k, 144 + 32 * k + 4 * i, 4);
    for (int k = 0; k < 16; ++k) mv(128 + 4 * k, 1168 + 32 * k + 4 * i, 4);
  }
}

size_t KBlockBytes(DType type) {
  return type == DType::kQ4_K ? sizeof(BlockQ4_K) : type == DType::kQ5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ6_K);
}

void ConvertKGroup(DType type, uint8_t* group, size_t row_bytes, bool to_x8, std::vector<uint8_t>* tmp) {
  const size_t bb = KBlockBytes(type), nb = row_bytes / bb;
  tmp->assign(group, group + 8 * row_bytes);
  for (size_t b = 0; b < nb; ++b) {
    for (int i = 0; i < 8; ++i) {
      if (to_x8) {
        MoveKBlock(type, tmp->data() + i * row_bytes + b * bb, group + b * 8 * bb, i, true);
      } else {
        MoveKBlock(type, group + i * row_bytes + b * bb, tmp->data() + b * 8 * bb, i, false);
      }
    }
  }
}

bool IsK(DType type) {
  return type == DType::kQ4_K || type == DType::kQ5_K || type == DType::kQ6_K;
}

}  // namespace

void ExtractInterleavedBlock(DType type, const uint8_t* group, int b, int i, uint8_t* block) {
  if (IsK(type)) {
    const size_t bb = KBlockBytes(type);
    MoveKBlock(type, block, const_cast<uint8_t*>(group + b * 8 * bb), i, false);
    return;
  }
  X8Format f;
  if (!Format(type, &f)) return;
  const uint8_t* xb = group + b * 8 * f.block_bytes;
  const size_t sb = f.scale_bytes;
  std::memcpy(block, xb + sb * i, sb);
  for (size_t k = 0; k < f.quant_bytes / 4; ++k) {
    for (int j = 0; j < 4; ++j) block[sb + 4 * k + j] = xb[8 * sb + 32 * k + 4 * i + j] ^ f.bias;
  }
}

namespace {

bool AnyFormat(DType type) {
  X8Format f;
  return Format(type, &f) || IsK(type);
}

}  // namespace

bool CanInterleave8(DType type, int rows, int cols) {
  const int block = IsK(type) ? 256 : 32;
  return AnyFormat(type) && rows > 0 && rows % 8 == 0 && cols % block == 0;
}

void Interleave8(DType type, uint8_t* data, int rows, size_t row_bytes) {
  std::vector<uint8_t> tmp;
  if (IsK(type)) {
    for (int g = 0; g < rows / 8; ++g)
      ConvertKGroup(type, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, true, &tmp);
    return;
  }
  X8Format f;
  if (!Format(type, &f)) return;
  for (int g = 0; g < rows / 8; ++g)
    ConvertGroup(f, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, true, &tmp);
}

void Deinterleave8(DType type, uint8_t* data, int rows, size_t row_bytes) {
  std::vector<uint8_t> tmp;
  if (IsK(type)) {
    for (int g = 0; g < rows / 8; ++g)
      ConvertKGroup(type, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, false, &tmp);
    return;
  }
  X8Format f;
  if (!Format(type, &f)) return;
  for (int g = 0; g < rows / 8; ++g)
    ConvertGroup(f, data + static_cast<size_t>(g) * 8 * row_bytes, row_bytes, false, &tmp);
}

}  // namespace omnicoder
