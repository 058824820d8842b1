// runtime layer: sampler determinism and options, session batching, thread-count
// independence, context limits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "runtime/sampler.h"
#include "tests/common/test_models.h"

namespace omnicoder {
namespace {

using testing::EngineLogits;
using testing::TestTokens;
using testing::TinyModelPath;

std::vector<float> RandomLogits(int n, uint32_t seed) {
  std::vector<float> l(n);
  uint32_t x = seed;
  for (float& v : l) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<float>((x >> 8) % 1000) / 100.0f;
  }
  return l;
}

TEST(Sampler, GreedyIsArgmax) {
  SamplerOptions p;
  p.temperature = 0.0f;
  TokenSampler s(p, 100);
  std::vector<float> l = RandomLogits(100, 1);
  EXPECT_EQ(s.Sample(l.data()), testing::Argmax(l));
}

TEST(Sampler, SameSeedSameTokens) {
  SamplerOptions p;
  p.seed = 42;
  TokenSampler a(p, 1000), b(p, 1000);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l = RandomLogits(1000, i);
    const int32_t ta = a.Sample(l.data()), tb = b.Sample(l.data());
    EXPECT_EQ(ta, tb);
    a.Accept(ta);
    b.Accept(tb);
  }
}

TEST(Sampler, TopKOneIsGreedyAndMinPFilters) {
  SamplerOptions p;
  p.top_k = 1;
  p.seed = 3;
  TokenSampler s(p, 100);
  std::vector<float> l = RandomLogits(100, 5);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.Sample(l.data()), testing::Argmax(l));
  SamplerOptions q;
  q.top_k = 0;
  q.top_p = 1.0f;
  q.min_p = 0.5f;
  q.temperature = 1.0f;
  TokenSampler m(q, 3);
  const float l3[3] = {0.0f, std::log(0.4f), std::log(0.1f)};  // p = 1, .4, .1 (relative)
  for (int i = 0; i < 200; ++i) EXPECT_EQ(m.Sample(l3), 0);    // .4 < .5 * 1: only token 0 survives
}

TEST(Sampler, RepetitionPenaltyDemotesSeenTokens) {
  SamplerOptions p;
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  TokenSampler s(p, 3);
  const float l[3] = {2.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.Sample(l), 0);
  s.Accept(0);
  EXPECT_EQ(s.Sample(l), 1);  // 2.0 / 2 = 1.0 < 1.5
}

TEST(Session, ThreadCountDoesNotChangeLogits) {
  for (const char* arch : {"llama", "qwen3moe"}) {
    for (DType t : {DType::kF32, DType::kQ4_0, DType::kQ6_K}) {
      const std::string path = TinyModelPath(arch, t);
      const std::vector<int32_t> tokens = TestTokens(20);
      std::vector<float> one = EngineLogits(path, tokens, 1, KvType::kF16);
      std::vector<float> two = EngineLogits(path, tokens, 2, KvType::kF16);
      std::vector<float> three = EngineLogits(path, tokens, 3, KvType::kF16);
      ASSERT_EQ(one.size(), two.size());
      EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * 4)) << arch;
      EXPECT_EQ(0, std::memcmp(one.data(), three.data(), one.size() * 4)) << arch;
    }
  }
}

TEST(Session, BatchedPrefillMatchesOneTokenAtATime) {
  for (const char* arch : {"llama", "qwen2moe"}) {
    const std::string path = TinyModelPath(arch, DType::kQ8_0);
    const std::vector<int32_t> tokens = TestTokens(30);
    std::vector<float> batched = EngineLogits(path, tokens, 2, KvType::kF32, Isa::kAuto, 64);
    std::vector<float> single = EngineLogits(path, tokens, 2, KvType::kF32, Isa::kAuto, 1);
    std::vector<float> odd = EngineLogits(path, tokens, 2, KvType::kF32, Isa::kAuto, 7);
    EXPECT_LE(testing::MaxTopKLogProbDiff(batched, single), 1e-4) << arch;
    EXPECT_LE(testing::MaxTopKLogProbDiff(odd, single), 1e-4) << arch;
  }
}

TEST(Session, ContextFullAndBadTokensAreErrors) {
  auto engine = testing::TestEngine(1);
  auto model = Model::Load(*engine, TinyModelPath("llama"), LoadOptions{}).value();
  SessionOptions so;
  so.ctx_len = 8;
  auto s = Session::Create(*engine, *model, so).value();
  EXPECT_TRUE(s->Eval(TestTokens(8)).ok());
  Status full = s->Eval({5});
  EXPECT_FALSE(full.ok());
  EXPECT_NE(full.message().find("context is full"), std::string::npos);
  s->Reset();
  Status bad = s->Eval({1, 100000});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("outside the vocabulary"), std::string::npos);
  EXPECT_FALSE(s->Eval({}).ok());
  so.kv_type = static_cast<KvType>(9);  // a value outside the enum (e.g. from a C caller)
  EXPECT_FALSE(Session::Create(*engine, *model, so).ok());
  EXPECT_FALSE(ParseKvType("q9").ok());
  EXPECT_EQ(ParseKvType("f32").value(), KvType::kF32);
}

}  // namespace
}  // namespace omnicoder
