// kernels layer: every ISA's matmul and vector kernels against the scalar reference, and
// results independent of row ranges (the basis of thread-count-independent logits).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/cpu_features.h"
#include "base/half.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref.h"
#if defined(OC_TEST_AMX_EMULATED)
#include "kernels/amx_emulated/emulated_table.h"
#include "kernels/amx_emulated/tile_emulator.h"
#endif
#include "kernels/repack.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace omnicoder {
namespace {

const DType kTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                        DType::kQ5_1, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kMXFP4};

// Every SIMD level is a test of its own, skipped (not passed) where the CPU lacks it.
const Isa kSimdLevels[] = {Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon};
#define OC_SKIP_IF_ABSENT(level) \
  if (!IsaAvailable(level)) GTEST_SKIP() << IsaName(level) << " is not available on this CPU"

std::string IsaTypeName(const ::testing::TestParamInfo<std::tuple<Isa, DType>>& tp) {
  return std::string(IsaName(std::get<0>(tp.param))) + "_" + GetDTypeTraits(std::get<1>(tp.param)).name;
}

struct Problem {
  int rows, cols, tokens;
  std::vector<uint8_t> w;
  AlignedBuffer x;
  size_t x_row_bytes;
};

Problem Make(DType type, const MatMulKernel& k, int rows, int cols, int tokens, uint32_t seed) {
  Problem p{rows, cols, tokens, {}, {}, 0};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> row(cols);
  const size_t rb = RowBytes(type, cols);
  p.w.resize(rb * rows);
  for (int r = 0; r < rows; ++r) {
    for (float& v : row) v = nd(rng) * (r % 3 + 1);
    GetDTypeTraits(type).quantize(row.data(), p.w.data() + r * rb, cols);
  }
  p.x_row_bytes = ActRowBytes(k.act, cols);
  p.x.Allocate(p.x_row_bytes * tokens);
  for (int t = 0; t < tokens; ++t) {
    for (float& v : row) v = nd(rng);
    k.quantize_act(row.data(), p.x.data() + t * p.x_row_bytes, cols);
  }
  return p;
}

std::vector<float> RunMatMul(const MatMulKernel& k, DType type, Problem& p, int row_begin, int row_end,
                             std::vector<float>* y = nullptr, bool prefetch_nta = false) {
  std::vector<float> out(static_cast<size_t>(p.rows) * p.tokens, NAN);
  if (!y) y = &out;
  MatMulArgs a;
  a.w = p.w.data();
  a.w_row_bytes = RowBytes(type, p.cols);
  a.x = p.x.data();
  a.x_row_bytes = p.x_row_bytes;
  a.y = y->data();
  a.y_stride = p.rows;
  a.in_dim = p.cols;
  a.n_tokens = p.tokens;
  a.prefetch_nta = prefetch_nta;
  k.matmul(a, row_begin, row_end);
  return *y;
}

class MatMulVsRef : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(MatMulVsRef, MatchesScalar) {
  const auto [level, type] = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
  {
    const MatMulKernel& k = GetKernelTable(level).matmul[static_cast<uint32_t>(type)];
    SCOPED_TRACE(GetKernelTable(level).isa);
    if (type == DType::kQ4_0) std::printf("checking %s against ref\n", GetKernelTable(level).isa.c_str());
    ASSERT_NE(k.matmul, nullptr);
    ASSERT_EQ(k.act, ref.act);
    // 1-3: a remainder tile alone; 5-7: a full tile of 4 and a remainder.
    for (int tokens : {1, 2, 3, 5, 6, 7, 8}) {
      Problem p = Make(type, k, 37, 512, tokens, 5 + tokens);
      // Activation quantization must be bit-identical to the reference's.
      AlignedBuffer xr;
      xr.Allocate(p.x_row_bytes);
      std::vector<float> row(512, 0.5f);
      for (int i = 0; i < 512; ++i) row[i] = std::sin(i * 0.37f) * (i % 7);
      k.quantize_act(row.data(), p.x.data(), 512);
      ref.quantize_act(row.data(), xr.data(), 512);
      ASSERT_EQ(0, std::memcmp(p.x.data(), xr.data(), p.x_row_bytes)) << GetDTypeTraits(type).name;
      std::vector<float> want = RunMatMul(ref, type, p, 0, p.rows);
      std::vector<float> got = RunMatMul(k, type, p, 0, p.rows);
      // The decode tiles' other prefetch hint (runs that path; a hint cannot change bits).
      EXPECT_EQ(0, std::memcmp(RunMatMul(k, type, p, 0, p.rows, nullptr, true).data(), got.data(), got.size() * 4));
      for (size_t i = 0; i < want.size(); ++i) {
        // Named tolerance: float summation order differs (lanes vs sequential).
        EXPECT_NEAR(got[i], want[i], 2e-4 * (1.0 + std::fabs(want[i]))) << GetDTypeTraits(type).name << " i=" << i;
      }
      // Any split of the rows gives bitwise the same values.
      std::vector<float> split(got.size(), NAN);
      RunMatMul(k, type, p, 0, 5, &split);
      RunMatMul(k, type, p, 5, 21, &split);
      RunMatMul(k, type, p, 21, p.rows, &split);
      EXPECT_EQ(0, std::memcmp(split.data(), got.data(), got.size() * 4)) << GetDTypeTraits(type).name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MatMulVsRef,
                         ::testing::Combine(::testing::ValuesIn(kSimdLevels), ::testing::ValuesIn(kTypes)),
                         IsaTypeName);

class Interleaved8 : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(Interleaved8, MatchesRowMajorReference) {
  const auto [level, type] = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
  for (int tokens : {1, 2, 3, 5, 6, 7, 8}) {
    Problem p = Make(type, ref, 48, 512, tokens, 21 + tokens);
    std::vector<float> want = RunMatMul(ref, type, p, 0, p.rows);
    const std::vector<uint8_t> row_major = p.w;
    ASSERT_TRUE(CanInterleave8(type, p.rows, p.cols));
    Interleave8(type, p.w.data(), p.rows, RowBytes(type, p.cols));
    EXPECT_NE(p.w, row_major);
    {
      MatMulKernel k = GetKernelTable(level).matmul[static_cast<uint32_t>(type)];
      ASSERT_NE(k.matmul_x8, nullptr);
      k.matmul = k.matmul_x8;
      std::vector<float> got = RunMatMul(k, type, p, 0, p.rows);
      EXPECT_EQ(0, std::memcmp(RunMatMul(k, type, p, 0, p.rows, nullptr, true).data(), got.data(), got.size() * 4));
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(got[i], want[i], 2e-4 * (1.0 + std::fabs(want[i]))) << GetDTypeTraits(type).name << " i=" << i;
      }
      std::vector<float> split(got.size(), NAN);
      RunMatMul(k, type, p, 0, 16, &split);
      RunMatMul(k, type, p, 16, 24, &split);
      RunMatMul(k, type, p, 24, p.rows, &split);
      EXPECT_EQ(0, std::memcmp(split.data(), got.data(), got.size() * 4));
    }
    Deinterleave8(type, p.w.data(), p.rows, RowBytes(type, p.cols));
    EXPECT_EQ(p.w, row_major);
  }
  EXPECT_FALSE(CanInterleave8(type, 12, 256));
  EXPECT_FALSE(CanInterleave8(DType::kF16, 16, 256));
}

// The avx512 level's three decode forms (DecodeForm: kWide pairs groups in 512-bit
// registers; kNarrow takes 1-3 token tiles group by group in 256-bit registers; kHalves
// also sends Q6_K through the AVX2 kernel) give the same bits as each other and as the
// AVX2 level, for decode, prefill tiles of other sizes and every remainder, on 40 rows
// (two pairs and an odd group).
TEST(Interleaved8, Avx512DecodeFormsGiveTheAvx2Bits) {
  OC_SKIP_IF_ABSENT(Isa::kAvx512);
  KernelTable wide, narrow, halves;
  for (KernelTable* t : {&wide, &narrow, &halves}) {
    FillRefKernels(t);
    FillAvx2Kernels(t);
  }
  FillAvx512Kernels(&wide, DecodeForm::kWide);
  FillAvx512Kernels(&narrow, DecodeForm::kNarrow);
  FillAvx512Kernels(&halves, DecodeForm::kHalves);
  const KernelTable& avx2 = GetKernelTable(Isa::kAvx2);
  for (DType type : {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kMXFP4, DType::kQ4_K,
                     DType::kQ5_K, DType::kQ6_K}) {
    const uint32_t id = static_cast<uint32_t>(type);
    if (type != DType::kQ4_K && type != DType::kQ5_K) {  // one form for these two
      ASSERT_NE(wide.matmul[id].matmul_x8, halves.matmul[id].matmul_x8) << GetDTypeTraits(type).name;
    }
    // Q6_K: kNarrow keeps the VNNI kernel (faster on Zen 5); the 32-block formats narrow.
    if (type == DType::kQ6_K) {
      EXPECT_EQ(wide.matmul[id].matmul_x8, narrow.matmul[id].matmul_x8);
    } else if (type == DType::kQ4_0) {
      EXPECT_EQ(halves.matmul[id].matmul_x8, narrow.matmul[id].matmul_x8);
    }
    // 8-19: the avx512 level's prefill tiles of 8, then one of 4, then 1-3 (AVX2: tiles of 4).
    for (int tokens : {1, 2, 3, 5, 6, 7, 8, 12, 15, 19}) {
      Problem p = Make(type, GetKernelTable(Isa::kRef).matmul[id], 40, 512, tokens, 5 + tokens);
      Interleave8(type, p.w.data(), p.rows, RowBytes(type, p.cols));
      std::vector<std::vector<float>> got;
      for (const KernelTable* t :
           {&avx2, static_cast<const KernelTable*>(&wide), static_cast<const KernelTable*>(&narrow),
            static_cast<const KernelTable*>(&halves)}) {
        MatMulKernel k = t->matmul[id];
        k.matmul = k.matmul_x8;
        got.push_back(RunMatMul(k, type, p, 0, p.rows));
      }
      SCOPED_TRACE(std::string(GetDTypeTraits(type).name) + " tokens " + std::to_string(tokens));
      for (size_t i = 1; i < got.size(); ++i) {
        EXPECT_EQ(0, std::memcmp(got[0].data(), got[i].data(), got[0].size() * 4)) << "form " << i - 1;
      }
    }
  }
}

// The float kernels' decode forms (kNarrow and kHalves: rows one at a time) give the same
// bits as kWide's rows in sixes.
TEST(FloatMatMul, Avx512DecodeFormsGiveTheSameBits) {
  OC_SKIP_IF_ABSENT(Isa::kAvx512);
  KernelTable wide, narrow;
  FillRefKernels(&wide);
  FillRefKernels(&narrow);
  FillAvx512FloatMatMul(&wide, DecodeForm::kWide);
  FillAvx512FloatMatMul(&narrow, DecodeForm::kNarrow);
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
    const uint32_t id = static_cast<uint32_t>(type);
    ASSERT_NE(wide.matmul[id].matmul, narrow.matmul[id].matmul);
    for (int tokens : {1, 2, 3, 5}) {
      Problem p = Make(type, wide.matmul[id], 23, 520, tokens, 17 + tokens);
      SCOPED_TRACE(std::string(GetDTypeTraits(type).name) + " tokens " + std::to_string(tokens));
      const std::vector<float> a = RunMatMul(wide.matmul[id], type, p, 0, p.rows);
      const std::vector<float> b = RunMatMul(narrow.matmul[id], type, p, 0, p.rows);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
    }
  }
}

// Which form each CPU gets: Zen 4 (zmm_halves) kHalves, Zen 5 kNarrow, others kWide.
TEST(CpuFeatures, DecodeFormFollowsTheCpu) {
  CpuFeatures f;
  EXPECT_EQ(DecodeFormFor(f), DecodeForm::kWide);
  f.narrow_decode = true;
  EXPECT_EQ(DecodeFormFor(f), DecodeForm::kNarrow);
  f.zmm_halves = true;
  EXPECT_EQ(DecodeFormFor(f), DecodeForm::kHalves);
}

// Every E8M0 scale byte (0 and 1 give subnormal half scales, the largest overflow to inf
// in the product) through the interleaved kernels' vector scale conversion: 16 rows (a
// pair of groups for AVX-512), in round `base` row r has exponent byte 16 * base + r in
// every block.
TEST(Interleaved8Mxfp4, EveryScaleByteMatchesTheReference) {
  const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(DType::kMXFP4)];
  constexpr int kRows = 16, kCols = 32 * 4;
  const size_t rb = RowBytes(DType::kMXFP4, kCols);
  for (int base = 0; base < 16; ++base) {
    Problem p = Make(DType::kMXFP4, ref, kRows, kCols, 3, 77 + base);
    for (int r = 0; r < kRows; ++r) {
      for (int b = 0; b < kCols / 32; ++b) p.w[r * rb + b * sizeof(BlockMxfp4)] = static_cast<uint8_t>(16 * base + r);
    }
    const std::vector<float> want = RunMatMul(ref, DType::kMXFP4, p, 0, kRows);
    Interleave8(DType::kMXFP4, p.w.data(), kRows, rb);
    for (Isa level : {Isa::kRef, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
      if (!IsaAvailable(level)) continue;
      MatMulKernel k = GetKernelTable(level).matmul[static_cast<uint32_t>(DType::kMXFP4)];
      ASSERT_NE(k.matmul_x8, nullptr) << IsaName(level);
      k.matmul = k.matmul_x8;
      const std::vector<float> got = RunMatMul(k, DType::kMXFP4, p, 0, kRows);
      for (size_t i = 0; i < want.size(); ++i) {
        const int e = 16 * base + static_cast<int>(i % kRows);
        if (!std::isfinite(want[i])) {
          EXPECT_FALSE(std::isfinite(got[i])) << IsaName(level) << " e=" << e;  // inf or inf - inf
        } else {
          EXPECT_NEAR(got[i], want[i], 2e-4 * std::fabs(want[i]) + 1e-45) << IsaName(level) << " e=" << e;
        }
      }
    }
  }
}

// The interleaved Q4_K / Q5_K kernels sum u8 x s8 products of a sub-block in int16 on
// AVX2: every quant at its top level (15 / 31, scales and mins 63) against activations
// all at +-127 is the largest such sum, and must match the scalar reference.
TEST(Interleaved8KQuants, LargestQuantsAndActivationsMatchTheReference) {
  constexpr int kRows = 16, kCols = 512;
  for (DType type : {DType::kQ4_K, DType::kQ5_K}) {
    const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
    const size_t rb = RowBytes(type, kCols), block = GetDTypeTraits(type).block_bytes;
    for (int tokens : {1, 4, 5}) {
      Problem p = Make(type, ref, kRows, kCols, tokens, 3);
      std::fill(p.w.begin(), p.w.end(), 0xFF);
      for (size_t off = 0; off < p.w.size(); off += block) {
        const uint16_t d = F32ToF16(0.01f), dmin = F32ToF16(0.002f);
        std::memcpy(&p.w[off], &d, 2);
        std::memcpy(&p.w[off + 2], &dmin, 2);
      }
      for (int t = 0; t < tokens; ++t) {
        const std::vector<float> row(kCols, t % 2 ? 1.0f : -1.0f);
        ref.quantize_act(row.data(), p.x.data() + t * p.x_row_bytes, kCols);
      }
      const std::vector<float> want = RunMatMul(ref, type, p, 0, kRows);
      Interleave8(type, p.w.data(), kRows, rb);
      for (Isa level : {Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
        if (!IsaAvailable(level)) continue;
        MatMulKernel k = GetKernelTable(level).matmul[static_cast<uint32_t>(type)];
        k.matmul = k.matmul_x8;
        const std::vector<float> got = RunMatMul(k, type, p, 0, kRows);
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_NEAR(got[i], want[i], 2e-4 * std::fabs(want[i])) << IsaName(level) << " i=" << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, Interleaved8,
    ::testing::Combine(::testing::Values(Isa::kRef, Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon),
                       ::testing::Values(DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                                         DType::kMXFP4, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K)),
    IsaTypeName);

// AMX prefill (tiles of 16 tokens, a short last tile from 8-14) gives bitwise the AVX-512
// VNNI kernel's results: full and short tiles, a chunk boundary of the unpacked weights
// (72 blocks), an odd last row group, and any row split.
// The amx kernel's output: bitwise `base` (the avx512 level's), near the scalar `want`,
// and bitwise the same for a split of the 40 rows.
std::vector<float> ExpectAmxMatches(const MatMulKernel& amx, DType type, Problem& p, const std::vector<float>& base,
                                    const std::vector<float>& want) {
  const std::vector<float> got = RunMatMul(amx, type, p, 0, p.rows);
  EXPECT_EQ(0, std::memcmp(base.data(), got.data(), got.size() * 4));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 2e-4 * (1.0 + std::fabs(want[i]))) << "i=" << i;
  }
  std::vector<float> split(got.size(), NAN);
  RunMatMul(amx, type, p, 0, 8, &split);
  RunMatMul(amx, type, p, 8, 24, &split);
  RunMatMul(amx, type, p, 24, p.rows, &split);
  EXPECT_EQ(0, std::memcmp(split.data(), got.data(), got.size() * 4));
  return got;
}

// The amx level's code runs twice: on the CPU's tiles where it has AMX, and with every
// tile instruction emulated (amx_emulated/tile_emulator.h) wherever AVX-512 VNNI and BF16
// are, so that the AMX kernels are tested on CPUs without AMX too.
enum class AmxRun { kNative, kEmulated };

std::string AmxRunName(AmxRun run) {
  return run == AmxRun::kNative ? "native" : "emulated";
}

// The run's table, or null (the test skips) where it cannot run.
const KernelTable* AmxTable(AmxRun run) {
  if (run == AmxRun::kNative) return IsaAvailable(Isa::kAmx) ? &GetKernelTable(Isa::kAmx) : nullptr;
#if defined(OC_TEST_AMX_EMULATED)
  return GetAmxEmulatedKernelTable();
#else
  return nullptr;
#endif
}

// Tile instructions the CPU would have faulted on (emulated runs count them), the last
// one's reason.
uint64_t TileFaults() {
#if defined(OC_TEST_AMX_EMULATED)
  return tile_emulator::Faults();
#else
  return 0;
#endif
}

std::string LastTileFault() {
#if defined(OC_TEST_AMX_EMULATED)
  return tile_emulator::LastFault();
#else
  return "";
#endif
}

// Declares amx_table (the run's table) and the fault count before the test, or skips.
#define OC_AMX_TABLE_OR_SKIP(run)                                                                              \
  const KernelTable* amx_table = AmxTable(run);                                                                \
  if (!amx_table) {                                                                                            \
    GTEST_SKIP() << (run == AmxRun::kNative ? "amx is not available on this CPU"                               \
                                            : "the emulated amx level needs AVX-512 VNNI and BF16 on x86-64"); \
  }                                                                                                            \
  const uint64_t tile_faults_before = TileFaults()
#define OC_EXPECT_NO_TILE_FAULTS() EXPECT_EQ(TileFaults(), tile_faults_before) << LastTileFault()

class AmxPrefill : public ::testing::TestWithParam<std::tuple<AmxRun, DType>> {};

TEST_P(AmxPrefill, BitwiseEqualsAvx512) {
  const auto [run, type] = GetParam();
  OC_AMX_TABLE_OR_SKIP(run);
  const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
  MatMulKernel amx = amx_table->matmul[static_cast<uint32_t>(type)];
  MatMulKernel vnni = GetKernelTable(Isa::kAvx512).matmul[static_cast<uint32_t>(type)];
  ASSERT_NE(amx.matmul_x8, vnni.matmul_x8);
  amx.matmul = amx.matmul_x8;
  vnni.matmul = vnni.matmul_x8;
  // Q4_K: 9 super-blocks cross the 4-super-block chunks twice. Token counts: short tiles
  // alone (11 for Q4_K, 14) and after full ones (30, 45), remainders left to VNNI (3, 4,
  // 17, 20).
  for (int cols : {512, 2304}) {
    for (int tokens : {3, 4, 11, 14, 16, 17, 20, 30, 45, 64}) {
      Problem p = Make(type, ref, 40, cols, tokens, 91 + tokens + cols);
      const std::vector<float> want = RunMatMul(ref, type, p, 0, p.rows);
      Interleave8(type, p.w.data(), p.rows, RowBytes(type, p.cols));
      const std::vector<float> base = RunMatMul(vnni, type, p, 0, p.rows);
      SCOPED_TRACE("cols " + std::to_string(cols) + " tokens " + std::to_string(tokens));
      const std::vector<float> got = ExpectAmxMatches(amx, type, p, base, want);
    }
  }
  OC_EXPECT_NO_TILE_FAULTS();
}

INSTANTIATE_TEST_SUITE_P(Types, AmxPrefill,
                         ::testing::Combine(::testing::Values(AmxRun::kNative, AmxRun::kEmulated),
                                            ::testing::Values(DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                                              DType::kQ8_0, DType::kMXFP4, DType::kQ4_K, DType::kQ5_K)),
                         [](const ::testing::TestParamInfo<std::tuple<AmxRun, DType>>& tp) {
                           return AmxRunName(std::get<0>(tp.param)) + "_" + GetDTypeTraits(std::get<1>(tp.param)).name;
                         });

// Q6_K stays row-major (its row kernel decodes faster): the amx level's row-major kernel
// takes runs of 16 rows on tiles and equals, bit for bit, the avx512 row kernel and the
// avx512 interleaved kernel, for every token count and row split.
class AmxPrefillQ6K : public ::testing::TestWithParam<AmxRun> {};

TEST_P(AmxPrefillQ6K, RowMajorBitwiseEqualsAvx512RowAndInterleaved) {
  OC_AMX_TABLE_OR_SKIP(GetParam());
  const DType type = DType::kQ6_K;
  const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
  const MatMulKernel& amx = amx_table->matmul[static_cast<uint32_t>(type)];
  const MatMulKernel& vnni = GetKernelTable(Isa::kAvx512).matmul[static_cast<uint32_t>(type)];
  ASSERT_NE(amx.matmul, vnni.matmul);
  MatMulKernel x8 = vnni;
  x8.matmul = vnni.matmul_x8;
  for (int cols : {512, 2304}) {
    for (int tokens : {1, 3, 4, 11, 14, 16, 17, 20, 30, 64}) {
      Problem p = Make(type, ref, 40, cols, tokens, 7 + tokens + cols);
      const std::vector<float> want = RunMatMul(ref, type, p, 0, p.rows);
      const std::vector<float> base = RunMatMul(vnni, type, p, 0, p.rows);
      SCOPED_TRACE("cols " + std::to_string(cols) + " tokens " + std::to_string(tokens));
      const std::vector<float> got = ExpectAmxMatches(amx, type, p, base, want);
      Interleave8(type, p.w.data(), p.rows, RowBytes(type, p.cols));
      const std::vector<float> inter = RunMatMul(x8, type, p, 0, p.rows);
      EXPECT_EQ(0, std::memcmp(inter.data(), got.data(), got.size() * 4));
    }
  }
  OC_EXPECT_NO_TILE_FAULTS();
}

INSTANTIATE_TEST_SUITE_P(Runs, AmxPrefillQ6K, ::testing::Values(AmxRun::kNative, AmxRun::kEmulated),
                         [](const ::testing::TestParamInfo<AmxRun>& tp) { return AmxRunName(tp.param); });

class IsaKernels : public ::testing::TestWithParam<Isa> {};

TEST_P(IsaKernels, VectorKernelsMatchScalar) {
  const Isa level = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const KernelTable& r = GetKernelTable(Isa::kRef);
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  {
    const KernelTable& k = GetKernelTable(level);
    for (int n : {1, 7, 64, 333, 8195}) {
      std::vector<float> x(n), w(n), a(n), b(n);
      for (int i = 0; i < n; ++i) x[i] = nd(rng), w[i] = nd(rng);
      r.rms_norm(x.data(), w.data(), 1e-5f, a.data(), n);
      k.rms_norm(x.data(), w.data(), 1e-5f, b.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(a[i])));
      a = x, b = x;
      r.silu_mul(a.data(), w.data(), n);
      k.silu_mul(b.data(), w.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(a[i])));
      a = x, b = x;
      r.swiglu_oai(a.data(), w.data(), n);  // spread 2: some of the 8195 values pass the clamps at +-7
      k.swiglu_oai(b.data(), w.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(a[i])));
      a = x, b = x;
      a[0] = b[0] = std::nanf("");  // a NaN stays NaN (no clamp hides it)
      r.swiglu_oai(a.data(), w.data(), n);
      k.swiglu_oai(b.data(), w.data(), n);
      EXPECT_TRUE(std::isnan(a[0]) && std::isnan(b[0]));
      a = x, b = x;
      r.softmax(a.data(), n);
      k.softmax(b.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
      a = x, b = x;
      r.axpy(a.data(), w.data(), 0.3f, n);
      k.axpy(b.data(), w.data(), 0.3f, n);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-6 * (1 + std::fabs(a[i])));  // fma vs mul+add
      std::vector<uint16_t> ha(n), hb(n);
      r.f32_to_f16(x.data(), ha.data(), n);
      k.f32_to_f16(x.data(), hb.data(), n);
      EXPECT_EQ(ha, hb);
    }
  }
}

// The AVX-512 softmax and SiLU compute each exp on 8 doubles: bit for bit the AVX2 ones,
// at every length (tails) and over the clamped ranges (|x| up to 200).
TEST(Avx512Vector, ExpKernelsAreBitwiseTheAvx2Ones) {
  OC_SKIP_IF_ABSENT(Isa::kAvx512);
  const KernelTable& k2 = GetKernelTable(Isa::kAvx2);
  const KernelTable& k5 = GetKernelTable(Isa::kAvx512);
  ASSERT_NE(k2.softmax, k5.softmax);
  ASSERT_NE(k2.silu_mul, k5.silu_mul);
  ASSERT_NE(k2.swiglu_oai, k5.swiglu_oai);
  std::mt19937 rng(21);
  for (float spread : {0.5f, 4.0f, 60.0f, 200.0f}) {
    std::normal_distribution<float> nd(0.0f, spread);
    for (int n : {1, 5, 8, 9, 16, 23, 64, 100, 1027}) {
      std::vector<float> x(n), u(n);
      for (int i = 0; i < n; ++i) x[i] = nd(rng), u[i] = nd(rng);
      SCOPED_TRACE("spread " + std::to_string(spread) + " n " + std::to_string(n));
      std::vector<float> a = x, b = x;
      k2.softmax(a.data(), n);
      k5.softmax(b.data(), n);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), 4 * n));
      a = x, b = x;
      k2.silu_mul(a.data(), u.data(), n);
      k5.silu_mul(b.data(), u.data(), n);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), 4 * n));
      a = x, b = x;
      k2.swiglu_oai(a.data(), u.data(), n);
      k5.swiglu_oai(b.data(), u.data(), n);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), 4 * n));
    }
  }
}

// Float weights: every token's outputs are the same bits computed with 8 other tokens or
// alone (tiles of 4 tokens and their remainders), at widths with 16-, 8- and 1-element
// tails, and close to the scalar reference.
TEST_P(IsaKernels, FloatMatMulGivesEachTokenItsBitsAlone) {
  const Isa level = GetParam();
  OC_SKIP_IF_ABSENT(level);
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
    const MatMulKernel& ref = GetKernelTable(Isa::kRef).matmul[static_cast<uint32_t>(type)];
    const MatMulKernel& k = GetKernelTable(level).matmul[static_cast<uint32_t>(type)];
    for (int cols : {37, 520, 2061}) {
      SCOPED_TRACE(std::string(GetDTypeTraits(type).name) + " cols " + std::to_string(cols));
      Problem p = Make(type, k, 9, cols, 9, 3 + cols);
      const std::vector<float> want = RunMatMul(ref, type, p, 0, p.rows);
      const std::vector<float> all = RunMatMul(k, type, p, 0, p.rows);
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(all[i], want[i], 2e-4 * (1.0 + std::fabs(want[i])));
      for (int t = 0; t < p.tokens; ++t) {
        std::vector<float> one(p.rows, NAN);
        MatMulArgs a;
        a.w = p.w.data();
        a.w_row_bytes = RowBytes(type, cols);
        a.x = p.x.data() + t * p.x_row_bytes;
        a.x_row_bytes = p.x_row_bytes;
        a.y = one.data();
        a.y_stride = p.rows;
        a.in_dim = cols;
        a.n_tokens = 1;
        k.matmul(a, 0, p.rows);
        EXPECT_EQ(0, std::memcmp(one.data(), all.data() + t * p.rows, 4 * p.rows)) << "token " << t;
      }
    }
  }
}

TEST_P(IsaKernels, AttentionKernelsMatchScalar) {
  const Isa level = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const KernelTable& r = GetKernelTable(Isa::kRef);
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  {
    const KernelTable& k = GetKernelTable(level);
    for (DType kv : {DType::kF16, DType::kF32}) {
      for (int hd : {32, 64, 128}) {
        const int n_pos = 45, row_elems = 2 * hd;  // two heads per row; test the second
        const size_t es = kv == DType::kF16 ? 2 : 4;
        std::vector<uint8_t> K(n_pos * row_elems * es), V(K.size());
        for (int i = 0; i < n_pos * row_elems; ++i) {
          float a = nd(rng), b = nd(rng);
          if (kv == DType::kF16) {
            reinterpret_cast<uint16_t*>(K.data())[i] = F32ToF16(a);
            reinterpret_cast<uint16_t*>(V.data())[i] = F32ToF16(b);
          } else {
            reinterpret_cast<float*>(K.data())[i] = a;
            reinterpret_cast<float*>(V.data())[i] = b;
          }
        }
        std::vector<float> q(hd), sr(n_pos), sk(n_pos), orr(hd), ok(hd), probs(n_pos);
        for (float& v : q) v = nd(rng);
        for (float& v : probs) v = std::fabs(nd(rng));
        AttnArgs a;
        a.q = q.data();
        a.k = K.data() + hd * es;
        a.v = V.data() + hd * es;
        a.kv_row_bytes = row_elems * es;
        a.kv_type = kv;
        a.head_dim = hd;
        a.n_pos = n_pos;
        a.scale = 0.125f;
        r.attn_scores(a, sr.data());
        k.attn_scores(a, sk.data());
        for (int p = 0; p < n_pos; ++p) EXPECT_NEAR(sr[p], sk[p], 1e-4 * (1 + std::fabs(sr[p])));
        r.attn_values(a, probs.data(), orr.data());
        k.attn_values(a, probs.data(), ok.data());
        for (int d = 0; d < hd; ++d) EXPECT_NEAR(orr[d], ok[d], 1e-4 * (1 + std::fabs(orr[d])));
        // The sum split into runs (accumulate) equals one pass, bit for bit.
        std::vector<float> split(hd);
        AttnArgs run = a;
        run.n_pos = 17;
        k.attn_values(run, probs.data(), split.data());
        run.v = a.v + 17 * a.kv_row_bytes;
        run.n_pos = n_pos - 17;
        run.accumulate = true;
        k.attn_values(run, probs.data() + 17, split.data());
        EXPECT_EQ(split, ok) << k.isa << " hd " << hd;
      }
    }
  }
}

// Several queries over the same K/V rows (a GQA group, MLA heads): each query's scores
// and outputs match the scalar reference and are bitwise those of the query alone, for
// head dims on and off the 8-lane tile (40), MLA's 576/512, and position counts that end
// mid-tile.
TEST_P(IsaKernels, GroupedAttentionMatchesScalarAndEachQueryAlone) {
  const Isa level = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const KernelTable& r = GetKernelTable(Isa::kRef);
  const KernelTable& k = GetKernelTable(level);
  std::mt19937 rng(12);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (DType kv : {DType::kF16, DType::kF32}) {
    for (int hd : {40, 64, 128, 576}) {
      for (int n_pos : {1, 13, 300}) {
        const int n_q = 5, vd = hd == 576 ? 512 : hd;
        const size_t es = kv == DType::kF16 ? 2 : 4, row_bytes = static_cast<size_t>(hd) * es + 64;
        std::vector<uint8_t> K(n_pos * row_bytes), V(K.size());
        for (int p = 0; p < n_pos; ++p) {
          for (int d = 0; d < hd; ++d) {
            const float a = nd(rng), b = nd(rng);
            uint8_t* kp = K.data() + p * row_bytes + d * es;
            uint8_t* vp = V.data() + p * row_bytes + d * es;
            if (kv == DType::kF16) {
              const uint16_t ha = F32ToF16(a), hb = F32ToF16(b);
              std::memcpy(kp, &ha, 2), std::memcpy(vp, &hb, 2);
            } else {
              std::memcpy(kp, &a, 4), std::memcpy(vp, &b, 4);
            }
          }
        }
        const size_t qs = hd + 3, ss = n_pos + 5, os = vd + 7;
        std::vector<float> q(n_q * qs), probs(n_q * ss);
        for (float& v : q) v = nd(rng);
        for (float& v : probs) v = std::fabs(nd(rng)) / n_pos;
        AttnArgs a;
        a.q = q.data();
        a.q_stride = qs;
        a.n_q = n_q;
        a.scores_stride = ss;
        a.out_stride = os;
        a.k = K.data();
        a.kv_row_bytes = row_bytes;
        a.kv_type = kv;
        a.head_dim = hd;
        a.n_pos = n_pos;
        a.scale = 0.07f;
        std::vector<float> sr(n_q * ss), sk(n_q * ss), orr(n_q * os), ok(n_q * os);
        r.attn_scores(a, sr.data());
        k.attn_scores(a, sk.data());
        AttnArgs v = a;
        v.v = V.data();
        v.head_dim = vd;
        r.attn_values(v, probs.data(), orr.data());
        k.attn_values(v, probs.data(), ok.data());
        for (int g = 0; g < n_q; ++g) {
          AttnArgs one = a;
          one.q = q.data() + g * qs;
          one.n_q = 1;
          std::vector<float> s1(n_pos), o1(vd);
          k.attn_scores(one, s1.data());
          AttnArgs vone = v;
          vone.n_q = 1;
          k.attn_values(vone, probs.data() + g * ss, o1.data());
          for (int p = 0; p < n_pos; ++p) {
            const float ref = sr[g * ss + p], got = sk[g * ss + p];
            EXPECT_NEAR(ref, got, 1e-4 * (1 + std::fabs(ref))) << k.isa << " hd " << hd << " q " << g << " p " << p;
            EXPECT_EQ(s1[p], got) << k.isa << " hd " << hd << " q " << g << " p " << p;
          }
          for (int d = 0; d < vd; ++d) {
            const float ref = orr[g * os + d], got = ok[g * os + d];
            EXPECT_NEAR(ref, got, 1e-4 * (1 + std::fabs(ref))) << k.isa << " hd " << hd << " q " << g << " d " << d;
            EXPECT_EQ(o1[d], got) << k.isa << " hd " << hd << " q " << g << " d " << d;
          }
        }
      }
    }
  }
}

// Scores over dim-major K (a KV-cache block: dim d of 64 positions contiguous): every ISA
// gives the reference's bits (one fused multiply-add chain per position, no reduction
// across lanes), whatever the query count, the first lane or the positions' count (runs
// that start and end mid-tile); and the scores are those of the row-major kernel.
TEST_P(IsaKernels, DimMajorScoresAreTheReferenceBits) {
  const Isa level = GetParam();
  OC_SKIP_IF_ABSENT(level);
  const KernelTable& r = GetKernelTable(Isa::kRef);
  const KernelTable& k = GetKernelTable(level);
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  constexpr int kLanes = 64;
  for (DType kv : {DType::kF16, DType::kF32}) {
    const size_t es = kv == DType::kF16 ? 2 : 4;
    for (int hd : {40, 64, 128, 256}) {
      // K dim-major in a block of kLanes positions; the same values row-major.
      std::vector<uint8_t> kt(static_cast<size_t>(hd) * kLanes * es), rows(kt.size());
      for (int p = 0; p < kLanes; ++p) {
        for (int d = 0; d < hd; ++d) {
          const float f = nd(rng);
          uint8_t* t = kt.data() + (static_cast<size_t>(d) * kLanes + p) * es;
          uint8_t* w = rows.data() + (static_cast<size_t>(p) * hd + d) * es;
          if (kv == DType::kF16) {
            const uint16_t h = F32ToF16(f);
            std::memcpy(t, &h, 2), std::memcpy(w, &h, 2);
          } else {
            std::memcpy(t, &f, 4), std::memcpy(w, &f, 4);
          }
        }
      }
      for (int n_q : {1, 2, 3, 5, 8}) {
        for (auto [first, n_pos] : {std::pair{0, 64}, {0, 1}, {0, 13}, {0, 31}, {16, 48}, {37, 27}, {5, 50}}) {
          const size_t qs = hd + 3, ss = n_pos + 5;
          std::vector<float> q(n_q * qs);
          for (float& v : q) v = nd(rng);
          AttnArgs a;
          a.q = q.data();
          a.q_stride = qs;
          a.n_q = n_q;
          a.scores_stride = ss;
          a.k = kt.data() + first * es;
          a.k_dim_bytes = kLanes * es;
          a.kv_type = kv;
          a.head_dim = hd;
          a.n_pos = n_pos;
          a.scale = 0.09f;
          std::vector<float> sr(n_q * ss, -1.0f), sk(sr), srow(sr);
          r.attn_scores_kt(a, sr.data());
          k.attn_scores_kt(a, sk.data());
          AttnArgs row = a;
          row.k = rows.data() + first * hd * es;
          row.kv_row_bytes = hd * es;
          r.attn_scores(row, srow.data());
          const std::string at =
              k.isa + " hd " + std::to_string(hd) + " n_q " + std::to_string(n_q) + " first " + std::to_string(first);
          EXPECT_EQ(sr, sk) << at;  // includes the untouched padding after each query's scores
          for (int g = 0; g < n_q; ++g) {
            for (int p = 0; p < n_pos; ++p) {
              const float want = srow[g * ss + p];
              ASSERT_NEAR(sk[g * ss + p], want, 1e-4 * (1 + std::fabs(want))) << at << " q " << g << " p " << p;
            }
            AttnArgs one = a;
            one.q = q.data() + g * qs;
            one.n_q = 1;
            std::vector<float> s1(n_pos);
            k.attn_scores_kt(one, s1.data());
            EXPECT_EQ(0, std::memcmp(s1.data(), sk.data() + g * ss, sizeof(float) * n_pos)) << at << " q " << g;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, IsaKernels, ::testing::ValuesIn(kSimdLevels),
                         [](const auto& tp) { return std::string(IsaName(tp.param)); });

}  // namespace
}  // namespace omnicoder
