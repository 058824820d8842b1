// tensor layer: reference quantize/dequantize of every type (error bounds, layout, edge cases).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/half.h"
#include "tensor/blocks.h"
#include "tensor/dtype.h"

namespace omnicoder {
namespace {

struct Case {
  DType type;
  double max_rel_rms;  // named tolerance: RMS error / RMS of the data, gaussian input
};

std::vector<float> Gaussian(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

class QuantRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(QuantRoundTrip, ErrorWithinBound) {
  const Case c = GetParam();
  const DTypeTraits& t = GetDTypeTraits(c.type);
  const int n = 4096;
  std::vector<float> x = Gaussian(n, 7), y(n);
  std::vector<uint8_t> q(RowBytes(c.type, n));
  t.quantize(x.data(), q.data(), n);
  t.dequantize(q.data(), y.data(), n);
  double err = 0, ref = 0;
  for (int i = 0; i < n; ++i) {
    err += (x[i] - y[i]) * (x[i] - y[i]);
    ref += x[i] * x[i];
  }
  const double rel = std::sqrt(err / ref);
  EXPECT_LT(rel, c.max_rel_rms) << t.name;
  // Deterministic and stable: quantizing again gives the same bytes.
  std::vector<uint8_t> q2(q.size());
  t.quantize(x.data(), q2.data(), n);
  EXPECT_EQ(q, q2);
}

TEST_P(QuantRoundTrip, ZerosAndConstantsStayFinite) {
  const Case c = GetParam();
  const DTypeTraits& t = GetDTypeTraits(c.type);
  const int n = 512;
  for (float v : {0.0f, 1.0f, -3.5f}) {
    std::vector<float> x(n, v), y(n);
    std::vector<uint8_t> q(RowBytes(c.type, n));
    t.quantize(x.data(), q.data(), n);
    t.dequantize(q.data(), y.data(), n);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(std::isfinite(y[i])) << t.name;
      // MXFP4's shared exponent (OCP MX: floor(log2 amax) - 2) clips 3.5 to 3: 15%.
      const double tol = c.type == DType::kMXFP4 ? 0.15 : 0.02;
      EXPECT_NEAR(y[i], v, std::fabs(v) * tol + 1e-6) << t.name << " value " << v;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantRoundTrip,
                         ::testing::Values(Case{DType::kF32, 1e-9}, Case{DType::kF16, 1e-3}, Case{DType::kBF16, 5e-3},
                                           Case{DType::kQ8_0, 0.01}, Case{DType::kQ8_1, 0.01}, Case{DType::kQ5_0, 0.05},
                                           Case{DType::kQ5_1, 0.05}, Case{DType::kQ4_0, 0.11}, Case{DType::kQ4_1, 0.10},
                                           Case{DType::kQ6_K, 0.02}, Case{DType::kQ5_K, 0.04}, Case{DType::kQ4_K, 0.08},
                                           Case{DType::kQ8_K, 0.01}, Case{DType::kMXFP4, 0.2}),
                         [](const auto& tp) { return std::string(GetDTypeTraits(tp.param.type).name); });

TEST(QuantLayout, Q4_0DecodesNibblesLowFirst) {
  BlockQ4_0 b{};
  b.d = F32ToF16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  GetDTypeTraits(DType::kQ4_0).dequantize(&b, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f);
    EXPECT_EQ(y[j + 16], (15 - j - 8) * 0.5f);
  }
}

TEST(QuantLayout, Mxfp4LevelsAndE8M0Scale) {
  BlockMxfp4 b{};
  b.e = 127;  // scale 2^0: doubled levels times 1/2
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  GetDTypeTraits(DType::kMXFP4).dequantize(&b, y, 32);
  const float e2m1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, 0, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], e2m1[j]);
    EXPECT_EQ(y[j + 16], e2m1[15 - j]);
  }
  EXPECT_EQ(Mxfp4HalfScale(0), std::ldexp(1.0f, -128));  // subnormal end of the range
  EXPECT_EQ(Mxfp4HalfScale(1), std::ldexp(1.0f, -127));
  EXPECT_EQ(Mxfp4HalfScale(254), std::ldexp(1.0f, 126));
}

TEST(QuantLayout, Q6_KScalesAndHighBits) {
  BlockQ6_K b{};
  b.d = F32ToF16(1.0f);
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<int8_t>(i + 1);
  b.ql[0] = 0x0F;  // element 0 low nibble 15, element 64 low nibble 0
  b.qh[0] = 0x03;  // element 0 high bits 3 -> q = 63 - 32 = 31
  float y[256];
  GetDTypeTraits(DType::kQ6_K).dequantize(&b, y, 256);
  EXPECT_EQ(y[0], 31.0f * 1);    // scale 0
  EXPECT_EQ(y[64], -32.0f * 5);  // element 64: scale index 4
  EXPECT_EQ(y[16], -32.0f * 2);  // element 16: scale index 1
}

TEST(DTypeTable, NamesAndLookup) {
  DType t;
  EXPECT_TRUE(ParseDType("q4_k", &t));
  EXPECT_EQ(t, DType::kQ4_K);
  EXPECT_FALSE(ParseDType("Q3_K", &t));
  EXPECT_EQ(FindDTypeTraits(10), nullptr);  // Q2_K: known id, not supported
  EXPECT_STREQ(DTypeIdDescription(10), "Q2_K, not supported");
  EXPECT_EQ(RowBytes(DType::kQ4_K, 512), 288u);
}

}  // namespace
}  // namespace omnicoder
