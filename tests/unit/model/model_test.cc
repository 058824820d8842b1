// model layer: routing math, RoPE, arch table and config reading.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "format/gguf.h"
#include "model/blocks/moe.h"
#include "model/blocks/rope.h"
#include "model/model_config.h"
#include "model/weights.h"
#include "tools/test_model.h"

namespace omnicoder {
namespace {

RouteSpec Spec(Gating g, bool norm, float scale, int n_experts, int k) {
  RouteSpec r;
  r.params.gating = g;
  r.params.norm_topk = norm;
  r.params.weights_scale = scale;
  r.n_experts = n_experts;
  r.k = k;
  return r;
}

TEST(Routing, TopKSoftmaxWithAndWithoutRenormalization) {
  const float in[4] = {1.0f, 3.0f, 2.0f, 3.0f};
  float logits[4], scratch[8], w[2];
  int32_t sel[2];
  std::copy(in, in + 4, logits);
  RouteToken(Spec(Gating::kSoftmax, false, 1.0f, 4, 2), logits, scratch, sel, w);
  EXPECT_EQ(sel[0], 1);  // tie between 1 and 3: lower index first
  EXPECT_EQ(sel[1], 3);
  const double z = std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0);
  EXPECT_NEAR(w[0], std::exp(3.0) / z, 1e-6);
  RouteToken(Spec(Gating::kSoftmax, true, 1.0f, 4, 2), logits, scratch, sel, w);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-6);
  RouteToken(Spec(Gating::kSoftmax, true, 2.5f, 4, 2), logits, scratch, sel, w);
  EXPECT_NEAR(w[0] + w[1], 2.5, 1e-5);
}

TEST(Routing, SigmoidBiasedSelectionAndGroups) {
  // Sigmoid gating; the selection bias moves the choice but not the weights.
  float logits[4] = {0.0f, 1.0f, 2.0f, -1.0f}, scratch[8], w[2];
  const float bias[4] = {5.0f, 0.0f, 0.0f, 0.0f};
  int32_t sel[2];
  RouteSpec r = Spec(Gating::kSigmoid, false, 1.0f, 4, 2);
  r.selection_bias = bias;
  RouteToken(r, logits, scratch, sel, w);
  EXPECT_EQ(sel[0], 0);
  EXPECT_EQ(sel[1], 2);
  EXPECT_NEAR(w[0], 0.5, 1e-6);
  EXPECT_NEAR(w[1], 1.0 / (1.0 + std::exp(-2.0)), 1e-6);
  // Groups of 2 scored by their two best: sigmoid(0) + sigmoid(1) = 1.23 beats
  // sigmoid(2) + sigmoid(-1) = 1.15, so with one group used expert 2 cannot be chosen.
  float g_logits[4] = {0.0f, 1.0f, 2.0f, -1.0f};
  RouteSpec g = Spec(Gating::kSigmoid, true, 1.0f, 4, 2);
  g.params.n_groups = 2;
  g.params.n_group_used = 1;
  RouteToken(g, g_logits, scratch, sel, w);
  EXPECT_EQ(sel[0], 1);
  EXPECT_EQ(sel[1], 0);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-6);
}

TEST(Routing, SoftmaxOverTheChosenLogits) {
  float logits[4] = {0.5f, 3.0f, 1.0f, 2.0f}, scratch[8], w[2];
  const float bias[4] = {0.0f, -2.5f, 0.0f, 0.0f};
  int32_t sel[2];
  RouteSpec r = Spec(Gating::kSoftmaxSelected, false, 1.0f, 4, 2);
  r.router_bias = bias;  // logits become {0.5, 0.5, 1, 2}
  RouteToken(r, logits, scratch, sel, w);
  EXPECT_EQ(sel[0], 3);
  EXPECT_EQ(sel[1], 2);
  EXPECT_NEAR(w[0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.0)), 1e-6);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-6);
}

TEST(Rope, TableMatchesClosedFormAndRotationPreservesNorm) {
  RopeParams c;
  c.base = 10000.0f;
  c.dims = 8;
  std::vector<float> table(3 * 8);
  FillRopeTable(c, c.base, 5, 3, table.data());
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 4; ++i) {
      const double theta = (5 + t) * std::pow(10000.0, -2.0 * i / 8);
      EXPECT_NEAR(table[t * 8 + 2 * i], std::cos(theta), 1e-5);
      EXPECT_NEAR(table[t * 8 + 2 * i + 1], std::sin(theta), 1e-5);
    }
  }
  for (RopeStyle style : {RopeStyle::kNorm, RopeStyle::kNeox}) {
    float v[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    double before = 0, after = 0;
    for (float x : v) before += x * x;
    ApplyRope(style, 8, 8, 2, table.data(), v);
    for (float x : v) after += x * x;
    EXPECT_NEAR(before, after, 1e-3);
  }
  // Position 0 is the identity.
  FillRopeTable(c, c.base, 0, 1, table.data());
  float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ApplyRope(RopeStyle::kNeox, 8, 8, 1, table.data(), v);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(v[i], i + 1);
}

TEST(ArchTable, KnownArchitectures) {
  for (const char* a : {"llama", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "olmoe"}) EXPECT_NE(FindArch(a), nullptr);
  EXPECT_EQ(FindArch("gpt2"), nullptr);
  EXPECT_EQ(FindArch("qwen3moe")->qk_norm, QkNorm::kPerHead);
  EXPECT_EQ(FindArch("olmoe")->qk_norm, QkNorm::kFull);
  EXPECT_TRUE(FindArch("qwen2moe")->shared_expert_gate);
}

TEST(ModelConfig, ReadsEveryTinyArch) {
  for (const char* preset :
       {"tiny-llama", "tiny-mixtral", "tiny-qwen2", "tiny-qwen2moe", "tiny-qwen3", "tiny-qwen3moe", "tiny-olmoe"}) {
    TestModelSpec spec = TestModelPreset(preset).value();
    const std::string path = std::string(OC_WORK_DIR "_cfg_") + preset + ".gguf";
    ASSERT_TRUE(WriteTestModel(spec, path).ok());
    auto f = GgufFile::Open(path);
    ASSERT_TRUE(f.ok());
    auto c = ReadModelConfig(*f.value());
    ASSERT_TRUE(c.ok()) << preset << ": " << c.status().ToString();
    EXPECT_EQ(c->n_layers, spec.n_layers);
    EXPECT_EQ(c->HasMoe(), spec.n_experts > 0) << preset;
    EXPECT_EQ(c->layers[0].head_dim, spec.head_dim ? spec.head_dim : spec.dim / spec.n_heads);
    auto w = LoadModelWeights(*f.value(), c.value(), WeightLoadOptions{true});
    ASSERT_TRUE(w.ok()) << preset << ": " << w.status().ToString();
    if (spec.n_experts > 0) {
      EXPECT_EQ(w->experts[0].size(), static_cast<size_t>(spec.n_experts));
      EXPECT_GT(w->expert_bytes, 0u);
      // Expert e's slice starts e * rows * row_bytes into the merged tensor.
      EXPECT_EQ(w->experts[0][1].gate.data - w->experts[0][0].gate.data,
                static_cast<ptrdiff_t>(w->experts[0][0].gate.bytes()));
    }
    std::remove(path.c_str());
  }
}

TEST(ModelConfig, PerExpertTensorsLoadLikeMerged) {
  TestModelSpec spec = TestModelPreset("tiny-mixtral").value();
  spec.merged_experts = false;
  const std::string path = OC_WORK_DIR "_cfg_split_experts.gguf";
  ASSERT_TRUE(WriteTestModel(spec, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok());
  auto c = ReadModelConfig(*f.value());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto w = LoadModelWeights(*f.value(), c.value(), WeightLoadOptions{});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->experts[1].size(), 4u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace omnicoder
