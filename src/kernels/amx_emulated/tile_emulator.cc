// Scalar AMX tile emulation (tile_emulator.h).
#include "kernels/amx_emulated/tile_emulator.h"

#include <cmath>
#include <cstring>

namespace omnicoder::tile_emulator {

namespace {

constexpr int kTiles = 8, kMaxRows = 16, kMaxColsb = 64;

struct State {
  bool configured = false;
  int rows[kTiles] = {};
  int colsb[kTiles] = {};
  alignas(64) uint8_t data[kTiles][kMaxRows][kMaxColsb] = {};
  uint64_t faults = 0;
  const char* last_fault = "";
};

thread_local State g_state;

bool Fault(const char* why) {
  ++g_state.faults;
  g_state.last_fault = why;
  return false;
}

bool Usable(int tile) {
  if (!g_state.configured) return Fault("tile instruction without a loaded configuration (#UD)");
  if (tile < 0 || tile >= kTiles) return Fault("tile register out of range");
  if (g_state.rows[tile] == 0 || g_state.colsb[tile] == 0) return Fault("tile not configured (#UD)");
  return true;
}

// The operand checks of a TDP* instruction (SDM: #UD unless the shapes chain and the
// three tiles differ).
bool DotUsable(int c, int a, int b) {
  if (!Usable(c) || !Usable(a) || !Usable(b)) return false;
  if (c == a || c == b || a == b) return Fault("TDP*: a tile used as two operands (#UD)");
  const State& s = g_state;
  if (s.colsb[c] != s.colsb[b]) return Fault("TDP*: dst bytes per row != src2 bytes per row (#UD)");
  if (s.rows[c] != s.rows[a]) return Fault("TDP*: dst rows != src1 rows (#UD)");
  if (s.colsb[a] / 4 != s.rows[b]) return Fault("TDP*: src1 bytes per row / 4 != src2 rows (#UD)");
  if (s.colsb[c] % 4 != 0 || s.colsb[a] % 4 != 0) return Fault("TDP*: bytes per row not a multiple of 4 (#UD)");
  return true;
}

// A byte's value as a signed or an unsigned integer.
template <bool kSigned>
int32_t ByteValue(uint8_t v) {
  return kSigned && v >= 128 ? static_cast<int32_t>(v) - 256 : static_cast<int32_t>(v);
}

// The loop of every TDP* instruction: element (m, n) of C (4 bytes, type Acc) takes the
// 4-byte groups k of A's row m and of B's row k at column n, in k order.
template <typename Acc, typename Step>
void DotTiles(int c, int a, int b, Step step) {
  if (!DotUsable(c, a, b)) return;
  State& s = g_state;
  const int groups = s.colsb[a] / 4, cols = s.colsb[c] / 4;
  for (int m = 0; m < s.rows[c]; ++m) {
    for (int n = 0; n < cols; ++n) {
      Acc acc;
      std::memcpy(&acc, &s.data[c][m][4 * n], 4);
      for (int k = 0; k < groups; ++k) acc = step(acc, &s.data[a][m][4 * k], &s.data[b][k][4 * n]);
      std::memcpy(&s.data[c][m][4 * n], &acc, 4);
    }
  }
}

template <bool kASigned, bool kBSigned>
void DotInt(int c, int a, int b) {
  DotTiles<uint32_t>(c, a, b, [](uint32_t acc, const uint8_t* x, const uint8_t* y) {  // wrapping 32-bit sums
    for (int i = 0; i < 4; ++i) acc += static_cast<uint32_t>(ByteValue<kASigned>(x[i]) * ByteValue<kBSigned>(y[i]));
    return acc;
  });
}

// bf16 -> f32 with denormals read as zero.
float Bf16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  if ((h & 0x7F80) == 0) h &= 0x8000;
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// One rounding of sum + product to f32 (a product of two bf16 values is exact), a
// denormal result flushed to zero.
float AddProduct(float sum, float x, float y) {
  const float r = std::fma(x, y, sum);
  return std::fpclassify(r) == FP_SUBNORMAL ? std::copysign(0.0f, r) : r;
}

}  // namespace

void LoadConfig(const void* config) {
  const auto* b = static_cast<const uint8_t*>(config);
  State& s = g_state;
  std::memset(s.data, 0, sizeof(s.data));
  s.configured = false;
  if (b[0] == 0) return;  // palette 0: the init state
  if (b[0] != 1) {
    Fault("LDTILECFG: palette other than 0 and 1 (#GP)");
    return;
  }
  for (int t = 0; t < kTiles; ++t) {
    uint16_t colsb;
    std::memcpy(&colsb, b + 16 + 2 * t, 2);
    const int rows = b[48 + t];
    if (colsb > kMaxColsb || rows > kMaxRows || (colsb == 0) != (rows == 0)) {
      Fault("LDTILECFG: a tile's shape is out of range (#GP)");
      return;
    }
    s.colsb[t] = colsb;
    s.rows[t] = rows;
  }
  s.configured = true;
}

void Release() {
  std::memset(g_state.data, 0, sizeof(g_state.data));
  g_state.configured = false;
}

void Load(int tile, const void* base, long stride) {
  if (!Usable(tile)) return;
  State& s = g_state;
  std::memset(s.data[tile], 0, sizeof(s.data[tile]));
  for (int r = 0; r < s.rows[tile]; ++r) {
    std::memcpy(s.data[tile][r], static_cast<const uint8_t*>(base) + r * stride, s.colsb[tile]);
  }
}

void Store(int tile, void* base, long stride) {
  if (!Usable(tile)) return;
  const State& s = g_state;
  for (int r = 0; r < s.rows[tile]; ++r) {
    std::memcpy(static_cast<uint8_t*>(base) + r * stride, s.data[tile][r], s.colsb[tile]);
  }
}

void Zero(int tile) {
  if (Usable(tile)) std::memset(g_state.data[tile], 0, sizeof(g_state.data[tile]));
}

void DotS8S8(int c, int a, int b) {
  DotInt<true, true>(c, a, b);
}
void DotS8U8(int c, int a, int b) {
  DotInt<true, false>(c, a, b);
}
void DotU8S8(int c, int a, int b) {
  DotInt<false, true>(c, a, b);
}
void DotU8U8(int c, int a, int b) {
  DotInt<false, false>(c, a, b);
}

void DotBf16(int c, int a, int b) {
  DotTiles<float>(c, a, b, [](float acc, const uint8_t* x, const uint8_t* y) {  // a pair of bf16 each
    acc = AddProduct(acc, Bf16(x), Bf16(y));
    return AddProduct(acc, Bf16(x + 2), Bf16(y + 2));
  });
}

uint64_t Faults() {
  return g_state.faults;
}

const char* LastFault() {
  return g_state.last_fault;
}

}  // namespace omnicoder::tile_emulator
