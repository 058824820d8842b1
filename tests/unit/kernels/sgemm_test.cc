// sgemm kernels (training matmuls): every ISA against the scalar reference for every
// operand layout and edge shape; the AMX-BF16 kernel against a double-precision product
// of BF16-rounded inputs; any split of C over tiles gives the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/kernel_table.h"
#if defined(OC_TEST_AMX_EMULATED)
#include "kernels/amx_emulated/emulated_table.h"
#include "kernels/amx_emulated/tile_emulator.h"
#endif

namespace omnicoder {
namespace {

struct Shape {
  int m, n, k;
  bool trans_a, trans_b;
};

const Shape kShapes[] = {{37, 53, 300, false, true}, {100, 70, 513, true, false},  {13, 33, 17, true, true},
                         {64, 64, 64, false, false}, {129, 513, 257, false, true}, {5, 3, 1, true, true},
                         {1, 1, 1000, false, false}, {200, 40, 600, true, false}};

struct Operands {
  std::vector<float> a, b;
  SgemmArgs g;
};

Operands Make(const Shape& s, uint32_t seed) {
  Operands o;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  o.a.resize(static_cast<size_t>(s.m) * s.k);
  o.b.resize(static_cast<size_t>(s.k) * s.n);
  for (float& x : o.a) x = u(rng);
  for (float& x : o.b) x = u(rng);
  SgemmArgs& g = o.g;
  g.m = s.m, g.n = s.n, g.k = s.k;
  g.a = o.a.data();
  g.a_row = s.trans_a ? 1 : s.k, g.a_col = s.trans_a ? s.m : 1;
  g.b = o.b.data();
  g.b_row = s.trans_b ? 1 : s.n, g.b_col = s.trans_b ? s.k : 1;
  g.ldc = s.n;
  return o;
}

float RoundBf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&x, &u, 4);
  return x;
}

std::vector<float> RunTiles(SgemmFn fn, SgemmArgs g, bool accumulate, int split) {
  std::vector<float> c(static_cast<size_t>(g.m) * g.n, 0.5f), pack(kSgemmPackFloats);
  g.c = c.data();
  g.accumulate = accumulate;
  // Tiles of C in an uneven split: rows in `split` bands, the last band's columns in two.
  for (int b = 0; b < split; ++b) {
    const int m0 = g.m * b / split, m1 = g.m * (b + 1) / split;
    if (b + 1 < split) {
      fn(g, m0, m1, 0, g.n, pack.data());
    } else {
      fn(g, m0, m1, 0, g.n / 3, pack.data());
      fn(g, m0, m1, g.n / 3, g.n, pack.data());
    }
  }
  return c;
}

class SgemmIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(SgemmIsa, MatchesScalarOnEveryLayout) {
  const Isa level = GetParam();
  if (!IsaAvailable(level)) GTEST_SKIP() << IsaName(level) << " is not available on this CPU";
  const KernelTable& ref = GetKernelTable(Isa::kRef);
  {
    const KernelTable& t = GetKernelTable(level);
    for (const Shape& s : kShapes) {
      Operands o = Make(s, 3);
      for (bool acc : {false, true}) {
        const std::vector<float> want = RunTiles(ref.sgemm, o.g, acc, 1);
        const std::vector<float> got = RunTiles(t.sgemm, o.g, acc, 1);
        const std::vector<float> split = RunTiles(t.sgemm, o.g, acc, 3);
        EXPECT_EQ(got, split) << t.isa << ": a split of C changed bits";
        for (size_t i = 0; i < want.size(); ++i) {
          // FMA vs separate multiply-add: a few ulps of the sum's magnitude (~sqrt(k)).
          ASSERT_NEAR(got[i], want[i], 2e-6 * std::sqrt(static_cast<double>(s.k)) * 4) << t.isa << " m" << s.m;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, SgemmIsa, ::testing::Values(Isa::kAvx2, Isa::kAvx512, Isa::kNeon),
                         [](const auto& tp) { return std::string(IsaName(tp.param)); });

// The AMX-BF16 kernel of table t against the double-precision product.
void ExpectBf16MatchesRoundedProduct(const KernelTable& t) {
  for (const Shape& s : kShapes) {
    Operands o = Make(s, 5);
    for (bool acc : {false, true}) {
      const std::vector<float> got = RunTiles(t.sgemm_bf16, o.g, acc, 1);
      EXPECT_EQ(got, RunTiles(t.sgemm_bf16, o.g, acc, 3)) << "a split of C changed bits";
      for (int i = 0; i < s.m; ++i) {
        for (int j = 0; j < s.n; ++j) {
          double want = acc ? 0.5 : 0.0;
          for (int p = 0; p < s.k; ++p) {
            want += static_cast<double>(RoundBf16(o.g.a[i * o.g.a_row + p * o.g.a_col])) *
                    RoundBf16(o.g.b[p * o.g.b_row + j * o.g.b_col]);
          }
          ASSERT_NEAR(got[static_cast<size_t>(i) * s.n + j], want, 1e-5 * std::sqrt(static_cast<double>(s.k)) * 4)
              << "m" << s.m << " n" << s.n << " k" << s.k << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(Sgemm, AmxBf16MatchesRoundedProduct) {
  const KernelTable& t = GetKernelTable(Isa::kAuto);
  if (!t.sgemm_bf16) GTEST_SKIP() << "no AMX-BF16 here (" << GetCpuFeatures().ToString() << ")";
  ExpectBf16MatchesRoundedProduct(t);
}

// The same code with the tile instructions emulated (amx_emulated/tile_emulator.h), on
// any CPU with AVX-512 BF16.
TEST(Sgemm, EmulatedAmxBf16MatchesRoundedProduct) {
#if defined(OC_TEST_AMX_EMULATED)
  const KernelTable* t = GetAmxEmulatedKernelTable();
  if (!t) GTEST_SKIP() << "the emulated amx level needs AVX-512 VNNI and BF16 (" << GetCpuFeatures().ToString() << ")";
  ASSERT_NE(t->sgemm_bf16, nullptr);
  const uint64_t faults = tile_emulator::Faults();
  ExpectBf16MatchesRoundedProduct(*t);
  EXPECT_EQ(tile_emulator::Faults(), faults) << tile_emulator::LastFault();
#else
  GTEST_SKIP() << "the emulated amx level is built for x86-64 only";
#endif
}

}  // namespace
}  // namespace omnicoder
