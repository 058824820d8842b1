// Real MoE shapes: 64 experts top-8 (OLMoE), 128 top-8 (Qwen3-30B-A3B), 60 top-4 with a
// shared expert (Qwen1.5-MoE), at small width. Prompt batches of 1..512 tokens route to
// every expert of a layer at once; the engine must match the double-precision oracle,
// and paging the experts through a small pool must give the same bits as resident.
#include <gtest/gtest.h>

#include "tests/common/test_models.h"
#include "tests/reference/naive_forward.h"

namespace omnicoder {
namespace {

using testing::EngineLogitsEach;
using testing::EvalOptions;
using testing::MaxTopKLogProbDiff;
using testing::TestTokens;
using testing::TinyModelPath;

struct Shape {
  const char* preset;  // after "tiny-"
  DType type;
  double tol;      // max |d log-softmax| over the oracle's top-10
  int slots = 20;  // expert pool when paged: far fewer than the experts routed to
};

class MoeShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(MoeShapes, EveryBatchMatchesOracleResidentAndPaged) {
  const Shape c = GetParam();
  const std::string path = TinyModelPath(c.preset, c.type);
  // Prompts of n tokens, each a prefix of the longest (TestTokens is a fixed sequence):
  // the oracle evaluates the longest once and gives every prefix's last-token logits.
  const std::vector<int> lengths = {1, 7, 40, 64, 300, 512};
  const std::vector<int32_t> all = TestTokens(lengths.back(), 5);
  std::vector<std::vector<int32_t>> prompts;
  for (int n : lengths) {
    prompts.emplace_back(all.begin(), all.begin() + n);
    ASSERT_EQ(prompts.back(), TestTokens(n, 5));
  }
  auto ref = reference::NaiveLogitsAt(path, all, lengths);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EvalOptions o;
  o.ctx_len = 1024;
  o.batch = 512;  // the whole prompt in one step: a wave over all routed experts
  const std::vector<std::vector<float>> resident = EngineLogitsEach(path, prompts, o);
  // Paged through a pool far smaller than the experts a prompt routes to.
  o.expert_slots = c.slots;
  const std::vector<std::vector<float>> paged = EngineLogitsEach(path, prompts, o);
  // Steps of 64 (the default batch) give the oracle's answer too.
  o.expert_slots = 0;
  o.batch = 64;
  const std::vector<std::vector<float>> stepped = EngineLogitsEach(path, prompts, o);
  for (size_t i = 0; i < lengths.size(); ++i) {
    const int n = lengths[i];
    const std::vector<float>& want = ref.value()[i];
    ASSERT_EQ(resident[i].size(), want.size()) << c.preset << " n=" << n;
    EXPECT_LE(MaxTopKLogProbDiff(resident[i], want), c.tol) << c.preset << " n=" << n;
    EXPECT_EQ(paged[i], resident[i]) << c.preset << " n=" << n << ": paging changed the logits";
    ASSERT_EQ(stepped[i].size(), want.size()) << c.preset << " n=" << n << " batch 64";
    EXPECT_LE(MaxTopKLogProbDiff(stepped[i], want), c.tol) << c.preset << " n=" << n << " batch 64";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Real, MoeShapes,
    ::testing::Values(Shape{"olmoe-64x8", DType::kF32, 2e-4}, Shape{"qwen3moe-128x8", DType::kF32, 2e-4},
                      Shape{"qwen2moe-60x4", DType::kF32, 2e-4}, Shape{"qwen3moe-128x8", DType::kQ4_K, 0.3},
                      Shape{"olmoe-64x8", DType::kQ8_0, 0.3}, Shape{"deepseek2", DType::kF32, 2e-4, 5},
                      Shape{"deepseek3", DType::kQ4_K, 0.3, 5}, Shape{"gpt-oss", DType::kF32, 0.05, 5}),
    [](const auto& tp) {
      std::string n = std::string(tp.param.preset) + "_" + GetDTypeTraits(tp.param.type).name;
      for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return n;
    });

}  // namespace
}  // namespace omnicoder
