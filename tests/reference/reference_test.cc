// Reference oracle: every architecture's tiny model, evaluated by the engine, matches the
// naive double-precision forward pass (tests/reference/naive_forward.cc).
#include <gtest/gtest.h>

#include "tests/common/test_models.h"
#include "tests/reference/naive_forward.h"

namespace omnicoder {
namespace {

using testing::EngineLogits;
using testing::MaxTopKLogProbDiff;
using testing::TestTokens;
using testing::TinyModelPath;

struct Case {
  const char* arch;
  DType type;
  double tol;      // max |d log-softmax| over the oracle's top-10
  int long_n = 0;  // also a sequence this long (past gpt-oss's sliding window)
};

class Oracle : public ::testing::TestWithParam<Case> {};

TEST_P(Oracle, EngineMatchesNaiveForward) {
  const Case c = GetParam();
  const std::string path = TinyModelPath(c.arch, c.type);
  for (int n : {1, 7, 40, c.long_n}) {
    if (n == 0) continue;
    const std::vector<int32_t> tokens = TestTokens(n, 11);
    auto ref = reference::NaiveLogits(path, tokens);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    testing::EvalOptions eo;
    eo.ctx_len = 1024;
    std::vector<float> ours = testing::EngineLogitsWith(path, tokens, eo);
    ASSERT_EQ(ours.size(), ref->size());
    EXPECT_LE(MaxTopKLogProbDiff(ours, ref.value()), c.tol) << c.arch << " n=" << n;
    if (testing::Top2Gap(ref.value()) > 4 * c.tol) {
      EXPECT_EQ(testing::Argmax(ours), testing::Argmax(ref.value())) << c.arch << " n=" << n;
    }
  }
}

std::vector<Case> Cases() {
  std::vector<Case> v;
  for (const char* a : {"llama", "mixtral", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "olmoe"}) {
    v.push_back({a, DType::kF32, 2e-4});
    v.push_back({a, DType::kF16, 0.02});   // activations rounded to f16 like llama.cpp
    v.push_back({a, DType::kQ8_0, 0.25});  // + activations quantized to 8 bits (as llama.cpp)
    v.push_back({a, DType::kQ4_K, 0.25});
  }
  // DeepSeek (MLA; V2-Lite-like and V3-like routing), checked against the expanded form.
  for (const char* a : {"deepseek2", "deepseek3"}) {
    v.push_back({a, DType::kF32, 2e-4});
    v.push_back({a, DType::kF16, 0.02});
    v.push_back({a, DType::kQ8_0, 0.25});
    v.push_back({a, DType::kQ4_K, 0.25});
  }
  // gpt-oss: MXFP4 experts (their inputs are 8-bit blocks, as llama.cpp), up to 300
  // tokens: past the 128-position window of its sliding layers.
  v.push_back({"gpt-oss", DType::kF32, 0.05, 300});
  v.push_back({"gpt-oss", DType::kBF16, 0.05, 300});
  v.push_back({"gpt-oss", DType::kQ8_0, 0.25, 300});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Archs, Oracle, ::testing::ValuesIn(Cases()), [](const auto& tp) {
  std::string n = std::string(tp.param.arch) + "_" + GetDTypeTraits(tp.param.type).name;
  for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
});

}  // namespace
}  // namespace omnicoder
