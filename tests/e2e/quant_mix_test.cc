// The llama.cpp K-quant mixes (api/quant_mix.h): which matrix gets which type. The
// expected sets are llama-quantize's own choices, read from its files of our TinyLlama-
// shaped (22 layers) and Mixtral-shaped (16 layers, 8 experts) F16 models
// (docs/BENCHMARKS.md, thirteenth sitting).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "api/quant_mix.h"

namespace omnicoder {
namespace {

std::string Blk(int i, const char* what) {
  return "blk." + std::to_string(i) + "." + what;
}

QuantTarget Target(const char* name) {
  QuantTarget t;
  EXPECT_TRUE(ParseQuantTarget(name, &t)) << name;
  return t;
}

// Layers of 22 that get more bits: the first and last eighth and every third between.
const std::set<int> kMore22 = {0, 1, 4, 7, 10, 13, 16, 19, 20, 21};

TEST(QuantMix, NamesFileTypesAndCase) {
  QuantTarget t;
  ASSERT_TRUE(ParseQuantTarget("q4_k_m", &t));
  EXPECT_EQ(t.type, DType::kQ4_K);
  EXPECT_EQ(t.mix, KMix::kMedium);
  EXPECT_EQ(t.file_type, 15u);
  ASSERT_TRUE(ParseQuantTarget("Q5_K_S", &t));
  EXPECT_EQ(t.type, DType::kQ5_K);
  EXPECT_EQ(t.mix, KMix::kSmall);
  EXPECT_EQ(t.file_type, 16u);
  ASSERT_TRUE(ParseQuantTarget("Q8_0", &t));
  EXPECT_EQ(t.mix, KMix::kNone);
  EXPECT_EQ(t.file_type, 7u);
  EXPECT_FALSE(ParseQuantTarget("Q4_K_L", &t));
  EXPECT_FALSE(ParseQuantTarget("Q8_K", &t));
  EXPECT_FALSE(ParseQuantTarget("", &t));
}

TEST(QuantMix, DenseQ4KMediumGivesSixBitsToValuesAndDownOfTenLayers) {
  const MixFacts f{22, 0, 22, false};
  const QuantTarget t = Target("Q4_K_M");
  for (int i = 0; i < 22; ++i) {
    const DType more = kMore22.count(i) ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(MixType(t, f, Blk(i, "attn_v.weight"), i), more) << i;
    EXPECT_EQ(MixType(t, f, Blk(i, "ffn_down.weight"), 0), more) << i;
    EXPECT_EQ(MixType(t, f, Blk(i, "attn_q.weight"), 0), DType::kQ4_K);
    EXPECT_EQ(MixType(t, f, Blk(i, "attn_k.weight"), 0), DType::kQ4_K);
    EXPECT_EQ(MixType(t, f, Blk(i, "attn_output.weight"), 0), DType::kQ4_K);
    EXPECT_EQ(MixType(t, f, Blk(i, "ffn_gate.weight"), 0), DType::kQ4_K);
  }
  EXPECT_EQ(MixType(t, f, "output.weight", 0), DType::kQ6_K);
  EXPECT_EQ(MixType(t, f, "token_embd.weight", 0), DType::kQ4_K);
  const QuantTarget t5 = Target("Q5_K_M");
  EXPECT_EQ(MixType(t5, f, Blk(4, "ffn_down.weight"), 0), DType::kQ6_K);
  EXPECT_EQ(MixType(t5, f, Blk(5, "ffn_down.weight"), 0), DType::kQ5_K);
}

TEST(QuantMix, DenseSmallMixes) {
  const MixFacts f{22, 0, 22, false};
  const QuantTarget s4 = Target("Q4_K_S"), s5 = Target("Q5_K_S");
  for (int i = 0; i < 22; ++i) {
    EXPECT_EQ(MixType(s4, f, Blk(i, "attn_v.weight"), i), i < 4 ? DType::kQ5_K : DType::kQ4_K) << i;
    EXPECT_EQ(MixType(s4, f, Blk(i, "ffn_down.weight"), 0), i < 22 / 8 ? DType::kQ5_K : DType::kQ4_K) << i;
    EXPECT_EQ(MixType(s5, f, Blk(i, "attn_v.weight"), i), DType::kQ5_K) << i;
    EXPECT_EQ(MixType(s5, f, Blk(i, "ffn_down.weight"), 0), DType::kQ5_K) << i;
  }
  EXPECT_EQ(MixType(s5, f, "output.weight", 0), DType::kQ6_K);
}

TEST(QuantMix, EightExpertsKeepKeysAndValuesInQ8AndOutputsInQ5K) {
  const MixFacts f{16, 8, 16, false};
  const QuantTarget m = Target("Q4_K_M"), m5 = Target("Q5_K_M");
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(MixType(m, f, Blk(i, "attn_v.weight"), i), DType::kQ8_0);
    EXPECT_EQ(MixType(m, f, Blk(i, "attn_k.weight"), 0), DType::kQ8_0);
    EXPECT_EQ(MixType(m, f, Blk(i, "attn_output.weight"), 0), DType::kQ5_K);
    EXPECT_EQ(MixType(m5, f, Blk(i, "attn_output.weight"), 0), DType::kQ5_K);  // its base type
    // 16 layers: 0, 1, 4, 7, 10, 13 and 14, 15.
    const bool more = i < 2 || i >= 14 || (i - 2) % 3 == 2;
    EXPECT_EQ(MixType(m, f, Blk(i, "ffn_down_exps.weight"), 0), more ? DType::kQ6_K : DType::kQ4_K) << i;
    EXPECT_EQ(MixType(m, f, Blk(i, "ffn_gate_exps.weight"), 0), DType::kQ4_K);
  }
}

TEST(QuantMix, TiedEmbeddingsGetTheOutputType) {
  const MixFacts f{22, 0, 22, true};
  EXPECT_EQ(MixType(Target("Q4_K_M"), f, "token_embd.weight", 0), DType::kQ6_K);
  EXPECT_EQ(MixType(Target("Q4_K"), f, "token_embd.weight", 0), DType::kQ4_K);  // no mix: the type asked for
}

TEST(QuantMix, MlaValuesAndFusedQkvCountAsValues) {
  EXPECT_TRUE(IsAttnVLike("blk.3.attn_kv_b.weight"));
  EXPECT_TRUE(IsAttnVLike("blk.3.attn_qkv.weight"));
  EXPECT_FALSE(IsAttnVLike("blk.3.attn_k.weight"));
  const MixFacts f{8, 64, 8, false};
  EXPECT_EQ(MixType(Target("Q4_K_M"), f, "blk.0.attn_kv_b.weight", 0), DType::kQ6_K);
  EXPECT_EQ(MixType(Target("Q4_K_M"), f, "blk.2.attn_kv_b.weight", 2), DType::kQ4_K);
}

}  // namespace
}  // namespace omnicoder
