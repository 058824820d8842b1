// x8 repacking of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4 and Q4_K / Q5_K / Q6_K matrices.
#include "kernels/repack.h"

#include <cstring>
#include <vector>

#include "tensor/blocks.h"

namespace omnicoder {

namespace {

// A 32-element block: its header fields (f16 scale, f16 min, E8M0 scale, Q5 high bits),
// which lead each row's block in this order, then its quants. Interleaved, each field
// holds the 8 rows' values side by side, then the quants in 4-byte groups; each quant
// byte is XORed with `bias`.
struct X8Format {
  size_t block_bytes;
  size_t quant_bytes;
  uint8_t bias;
  size_t fields[3];  // bytes per row of each header field; 0 ends the list
  int qh_field;      // the field holding Q5 high bits (re-ordered, see MoveQhBits), or -1
};

bool Format(DType type, X8Format* f) {
  switch (type) {
    case DType::kQ4_0:
      *f = {sizeof(BlockQ4_0), 16, 0, {2, 0, 0}, -1};
      return true;
    case DType::kQ4_1:
      *f = {sizeof(BlockQ4_1), 16, 0, {2, 2, 0}, -1};
      return true;
    case DType::kQ5_0:
      *f = {sizeof(BlockQ5_0), 16, 0, {2, 4, 0}, 1};
      return true;
    case DType::kQ5_1:
      *f = {sizeof(BlockQ5_1), 16, 0, {2, 2, 4}, 2};
      return true;
    case DType::kQ8_0:
      *f = {sizeof(BlockQ8_0), 32, 0x80, {2, 0, 0}, -1};
      return true;
    case DType::kMXFP4:
      *f = {sizeof(BlockMxfp4), 16, 0, {1, 0, 0}, -1};
      return true;
    default:
      return false;
  }
}

// Q5 high bits: bit e of the row-major word is element e's. Interleaved, byte j holds
// those of the 8 elements whose quants share byte j of the kernel's 4-byte groups: bit k
// = element 4k + j (low nibble of group k), bit 4 + k = element 16 + 4k + j (its high
// nibble), so a kernel shifts one bit of each byte into place per group.
uint32_t MoveQhBits(uint32_t v, bool to_x8) {
  uint32_t out = 0;
  for (int j = 0; j < 4; ++j) {
    for (int k = 0; k < 4; ++k) {
      for (int nib = 0; nib < 2; ++nib) {  // low nibble: element 4k + j; high: 16 + 4k + j
        const int rm_bit = 16 * nib + 4 * k + j, x8_bit = 8 * j + 4 * nib + k;
        out |= ((v >> (to_x8 ? rm_bit : x8_bit)) & 1u) << (to_x8 ? x8_bit : rm_bit);
      }
    }
  }
  return out;
}

// Row i's block moved between its row-major form `rm` and the interleaved group block `xb`.
void MoveBlock(const X8Format& f, uint8_t* rm, uint8_t* xb, int i, bool to_x8) {
  size_t rm_off = 0, x8_off = 0;
  for (int fi = 0; fi < 3 && f.fields[fi] != 0; ++fi) {
    const size_t n = f.fields[fi];
    uint8_t* r = rm + rm_off;
    uint8_t* x = xb + x8_off + n * i;
    if (fi == f.qh_field) {
      uint32_t v;
      std::memcpy(&v, to_x8 ? r : x, 4);
      v = MoveQhBits(v, to_x8);
      std::memcpy(to_x8 ? x : r, &v, 4);
    } else {
      std::memcpy(to_x8 ? x : r, to_x8 ? r : x, n);
    }
    rm_off += n;
    x8_off += 8 * n;
  }
  const uint32_t bias = f.bias * 0x01010101u;
  for (size_t k = 0; k < f.quant_bytes / 4; ++k) {
    uint8_t* r = rm + rm_off + 4 * k;
    uint8_t* x = xb + x8_off + 32 * k + 4 * i;
    uint32_t v;
    std::memcpy(&v, to_x8 ? r : x, 4);
    v ^= bias;
    std::memcpy(to_x8 ? x : r, &v, 4);
  }
}

// Moves one 8-row group between layouts (to_x8 selects the direction) via a temp copy.
void ConvertGroup(const X8Format& f, uint8_t* group, size_t row_bytes, bool to_x8, std::vector<uint8_t>* tmp) {
  const size_t nb = row_bytes / f.block_bytes;
  tmp->assign(group, group + 8 * row_bytes);
  for (size_t b = 0; b < nb; ++b) {
    for (int i = 0; i < 8; ++i) {
      const size_t rb = i * row_bytes + b * f.block_bytes;  // row-major block
      const size_t xb = b * 8 * f.block_bytes;              // interleaved block
      if (to_x8) {
        MoveBlock(f, tmp->data() + rb, group + xb, i, true);
      } else {
        MoveBlock(f, group + rb, tmp->data() + xb, i, false);
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
  MoveBlock(f, block, const_cast<uint8_t*>(group + b * 8 * f.block_bytes), i, false);
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
