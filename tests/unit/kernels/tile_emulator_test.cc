// The AMX tile emulator (amx_emulated/tile_emulator.h) on small hand-checked cases: the
// operand layouts and signedness of the dot products, 32-bit wrapping, BF16 flushing, what
// a load leaves outside the configured shape, and the faults the CPU would raise.
#include <gtest/gtest.h>

#if defined(OC_TEST_AMX_EMULATED)
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/amx/amx_tiles.h"
#include "kernels/amx_emulated/tile_emulator.h"

namespace omnicoder {
namespace {

// Tiles 0-2: C 2 rows x 3 int32; A 2 rows x 8 bytes (two 4-byte groups); B 2 rows x 12
// bytes. Tile 3: 16 x 64 (the largest).
alignas(64) constexpr TileConfig kSmall = {
    1, 0, {}, {12, 8, 12, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {2, 2, 2, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};

// C[m][n] = sum_k sum_i A[m][4k + i] * B[k][4n + i], with A's and B's bytes read as
// signed or unsigned.
std::vector<int32_t> Expected(const uint8_t* a, const uint8_t* b, bool a_signed, bool b_signed) {
  std::vector<int32_t> c(6, 0);
  for (int m = 0; m < 2; ++m) {
    for (int n = 0; n < 3; ++n) {
      for (int k = 0; k < 2; ++k) {
        for (int i = 0; i < 4; ++i) {
          const int x = a_signed ? static_cast<int8_t>(a[m * 8 + 4 * k + i]) : a[m * 8 + 4 * k + i];
          const int y = b_signed ? static_cast<int8_t>(b[k * 12 + 4 * n + i]) : b[k * 12 + 4 * n + i];
          c[m * 3 + n] += x * y;
        }
      }
    }
  }
  return c;
}

TEST(TileEmulator, IntegerDotProductsReadTheVnniLayoutWithTheirSigns) {
  uint8_t a[16], b[24];
  for (int i = 0; i < 16; ++i) a[i] = static_cast<uint8_t>(i * 37 + 200);  // bytes over 127 too
  for (int i = 0; i < 24; ++i) b[i] = static_cast<uint8_t>(i * 53 + 7);
  const uint64_t faults = tile_emulator::Faults();
  tile_emulator::LoadConfig(&kSmall);
  tile_emulator::Load(1, a, 8);
  tile_emulator::Load(2, b, 12);
  struct Case {
    void (*op)(int, int, int);
    bool a_signed, b_signed;
  };
  for (const Case& k : {Case{tile_emulator::DotS8S8, true, true}, Case{tile_emulator::DotS8U8, true, false},
                        Case{tile_emulator::DotU8S8, false, true}, Case{tile_emulator::DotU8U8, false, false}}) {
    tile_emulator::Zero(0);
    k.op(0, 1, 2);
    int32_t c[6];
    tile_emulator::Store(0, c, 12);
    const std::vector<int32_t> want = Expected(a, b, k.a_signed, k.b_signed);
    EXPECT_EQ(std::vector<int32_t>(c, c + 6), want) << k.a_signed << k.b_signed;
    k.op(0, 1, 2);  // accumulates
    tile_emulator::Store(0, c, 12);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(c[i], 2 * want[i]);
  }
  EXPECT_EQ(tile_emulator::Faults(), faults) << tile_emulator::LastFault();
  tile_emulator::Release();
}

TEST(TileEmulator, SumsWrapAt32Bits) {
  uint8_t a[16], b[24];
  std::memset(a, 255, sizeof(a));
  std::memset(b, 255, sizeof(b));
  const int32_t start[6] = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
  tile_emulator::LoadConfig(&kSmall);
  tile_emulator::Load(0, start, 12);
  tile_emulator::Load(1, a, 8);
  tile_emulator::Load(2, b, 12);
  tile_emulator::DotU8U8(0, 1, 2);  // + 8 * 255 * 255
  int32_t c[6];
  tile_emulator::Store(0, c, 12);
  const int32_t want = static_cast<int32_t>(static_cast<uint32_t>(INT32_MAX) + 8u * 255u * 255u);
  for (int32_t v : c) EXPECT_EQ(v, want);
  tile_emulator::Release();
}

TEST(TileEmulator, LoadsKeepOnlyTheConfiguredShape) {
  std::vector<uint8_t> src(32 * 64, 0xAB), out(32 * 64, 0);
  alignas(64) constexpr TileConfig kNarrow = {
      1, 0, {}, {64, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {16, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
  tile_emulator::LoadConfig(&kNarrow);
  tile_emulator::Load(1, src.data(), 64);  // 3 rows
  tile_emulator::Store(1, out.data(), 64);
  for (int i = 0; i < 32 * 64; ++i) ASSERT_EQ(out[i], i < 3 * 64 ? 0xAB : 0) << i;
  tile_emulator::Release();
}

TEST(TileEmulator, Bf16PairsAccumulateWithDenormalsFlushed) {
  alignas(64) constexpr TileConfig kOne = {
      1, 0, {}, {4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
  // bf16: 1.5 = 0x3FC0, 2 = 0x4000, 3 = 0x4040, 0.5 = 0x3F00, smallest denormal = 0x0001.
  const uint16_t a[2] = {0x3FC0, 0x4040}, b[2] = {0x4000, 0x3F00};
  const float start = 0.25f;
  tile_emulator::LoadConfig(&kOne);
  tile_emulator::Load(0, &start, 4);
  tile_emulator::Load(1, a, 4);
  tile_emulator::Load(2, b, 4);
  tile_emulator::DotBf16(0, 1, 2);
  float c;
  tile_emulator::Store(0, &c, 4);
  EXPECT_EQ(c, 0.25f + 1.5f * 2.0f + 3.0f * 0.5f);
  const uint16_t tiny[2] = {0x0001, 0x0001}, big[2] = {0x7F00, 0x7F00};  // denormal x 2^127
  tile_emulator::Zero(0);
  tile_emulator::Load(1, tiny, 4);
  tile_emulator::Load(2, big, 4);
  tile_emulator::DotBf16(0, 1, 2);
  tile_emulator::Store(0, &c, 4);
  EXPECT_EQ(c, 0.0f) << "a denormal bf16 input reads as zero";
  tile_emulator::Release();
}

TEST(TileEmulator, CountsWhatTheCpuWouldFaultOn) {
  uint8_t buf[64 * 16] = {};
  tile_emulator::Release();
  uint64_t faults = tile_emulator::Faults();
  tile_emulator::Load(0, buf, 64);  // no configuration
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  tile_emulator::LoadConfig(&kSmall);
  tile_emulator::DotS8S8(0, 2, 1);  // A 2 x 12 bytes against B 2 rows of 8: shapes do not chain
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  tile_emulator::DotS8S8(0, 0, 2);  // C used as A
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  tile_emulator::Zero(5);  // not configured
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  TileConfig bad = kSmall;
  bad.rows[0] = 17;
  tile_emulator::LoadConfig(&bad);
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  tile_emulator::Zero(0);  // the bad configuration left none loaded
  EXPECT_EQ(tile_emulator::Faults(), ++faults);
  EXPECT_STRNE(tile_emulator::LastFault(), "");
  tile_emulator::Release();
}

}  // namespace
}  // namespace omnicoder
#endif
