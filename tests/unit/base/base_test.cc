// base layer: half conversions, checked math, Status, mapped files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "base/checked_math.h"
#include "base/half.h"
#include "base/hash.h"
#include "base/mapped_file.h"
#include "base/strings.h"

namespace omnicoder {
namespace {

TEST(Half, EveryF16RoundTripsThroughF32) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(F32ToF16(f), h) << "half bits " << h;
  }
}

TEST(Half, RoundsToNearestEven) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(1.0f + 1.0f / 2048), 0x3c00);  // tie -> even (down)
  EXPECT_EQ(F32ToF16(1.0f + 3.0f / 2048), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToF16(5.960464477539063e-08f), 0x0001);   // smallest subnormal
  EXPECT_EQ(F32ToF16(2.9802322387695312e-08f), 0x0000);  // half of it: tie to even 0
  EXPECT_TRUE(std::isnan(F16ToF32(F32ToF16(NAN))));
}

TEST(Half, Bf16) {
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToF32(0x3f80), 1.0f);
  EXPECT_EQ(F32ToBf16(BitsToFloat(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(F32ToBf16(BitsToFloat(0x3f818000u)), 0x3f82);
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(NAN))));
}

TEST(CheckedMath, Overflow) {
  uint64_t out = 0;
  EXPECT_TRUE(CheckedMul(1ull << 31, 1ull << 31, &out));
  EXPECT_FALSE(CheckedMul(1ull << 32, 1ull << 32, &out));
  EXPECT_FALSE(CheckedAdd(~0ull, 1, &out));
}

TEST(Status, MessagesAndContext) {
  Status s = CorruptFile("bad thing");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.WithContext("file.gguf").ToString(), "corrupt file: file.gguf: bad thing");
  Result<int> r = NotFound("x");
  EXPECT_FALSE(r.ok());
  Result<int> v = 3;
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.value(), 3);
}

TEST(MappedFile, MissingAndEmptyFiles) {
  auto r = MappedFile::Open("/nonexistent/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  const std::string path = std::string(OC_WORK_DIR "_empty");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto e = MappedFile::Open(path);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value()->size(), 0u);
  std::remove(path.c_str());
  EXPECT_FALSE(MappedFile::Open("/").ok());
}

TEST(Strings, TrimAndContentLines) {
  EXPECT_EQ(Trim(" \t a b \r"), "a b");
  EXPECT_EQ(Trim(" \t\r"), "");
  const auto lines = ContentLines("# header\nkey = 1  # note\n\n  \t\r\nlast");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, 2);
  EXPECT_EQ(lines[0].second, "key = 1  ");
  EXPECT_EQ(lines[1].first, 5);
  EXPECT_EQ(lines[1].second, "last");
  EXPECT_TRUE(ContentLines("").empty());
}

TEST(Hash, FixedValues) {
  // Seeds of every trained and generated model depend on these: they must never change.
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafull);
  EXPECT_EQ(NameHash64(""), 1469598103934665603ull);
  EXPECT_EQ(NameHash64("a"), 4953267810257967366ull);
}

TEST(Strings, Helpers) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.50 KiB");
  EXPECT_EQ(QuoteForMessage(std::string("a\x01", 2)), "'a\\x01'");
}

}  // namespace
}  // namespace omnicoder
