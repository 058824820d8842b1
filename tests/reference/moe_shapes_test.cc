// Real MoE shapes: 64 experts top-8 (OLMoE), 128 top-8 (Qwen3-30B-A3B), 60 top-4 with a
// shared expert (Qwen1.5-MoE), at small width. Prompt batches of 1..512 tokens route to
// every expert of a layer at once; the engine must match the double-precision oracle,
// and paging the experts through a small pool must give the same bits as resident.
#include <gtest/gtest.h>

#include "tests/common/test_models.h"
#include "tests/reference/naive_forward.h"

namespace omnicoder {
namespace {

using testing::EngineLogitsWith;
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
  for (int n : {1, 7, 40, 64, 300, 512}) {
    const std::vector<int32_t> tokens = TestTokens(n, 5);
    auto ref = reference::NaiveLogits(path, tokens);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    EvalOptions o;
    o.ctx_len = 1024;
    o.batch = 512;  // the whole prompt in one step: a wave over all routed experts
    const std::vector<float> resident = EngineLogitsWith(path, tokens, o);
    ASSERT_EQ(resident.size(), ref->size()) << c.preset << " n=" << n;
    EXPECT_LE(MaxTopKLogProbDiff(resident, ref.value()), c.tol) << c.preset << " n=" << n;
    // Paged through a pool far smaller than the experts a prompt routes to.
    o.expert_slots = c.slots;
    const std::vector<float> paged = EngineLogitsWith(path, tokens, o);
    EXPECT_EQ(paged, resident) << c.preset << " n=" << n << ": paging changed the logits";
    // Steps of 64 (the default batch) give the oracle's answer too.
    o.expert_slots = 0;
    o.batch = 64;
    const std::vector<float> stepped = EngineLogitsWith(path, tokens, o);
    EXPECT_LE(MaxTopKLogProbDiff(stepped, ref.value()), c.tol) << c.preset << " n=" << n << " batch 64";
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
