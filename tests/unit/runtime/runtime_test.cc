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

// Bitwise, in prompt batches and one token at a time (decode): the matmuls' rows are
// split among threads in pieces claimed at run time (ThreadPool::ParallelForBalanced),
// and no result may depend on which thread ran which rows.
TEST(Session, ThreadCountDoesNotChangeLogits) {
  struct Case {
    const char* arch;
    DType type;
  };
  for (const Case& c : {Case{"llama", DType::kF32}, Case{"llama", DType::kQ4_0}, Case{"llama", DType::kQ6_K},
                        Case{"llama", DType::kQ4_K}, Case{"qwen3moe", DType::kF32}, Case{"qwen3moe", DType::kQ4_0},
                        Case{"qwen3moe", DType::kQ6_K}, Case{"olmoe-64x8", DType::kF32}}) {
    const std::string path = TinyModelPath(c.arch, c.type);
    const std::vector<int32_t> tokens = TestTokens(20);
    for (int batch : {64, 1}) {
      testing::EvalOptions o;
      o.kv_type = KvType::kF16;
      o.batch = batch;
      o.threads = 1;
      const std::vector<float> one = testing::EngineLogitsWith(path, tokens, o);
      ASSERT_FALSE(one.empty());
      for (int threads : {2, 3}) {
        if (batch == 1 && threads == 3) continue;  // 3 threads on a 2-core CI runner spin in turns
        o.threads = threads;
        const std::vector<float> many = testing::EngineLogitsWith(path, tokens, o);
        ASSERT_EQ(one.size(), many.size());
        EXPECT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * 4))
            << c.arch << " " << GetDTypeTraits(c.type).name << " batch " << batch << " threads " << threads;
      }
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

namespace omnicoder {
namespace {

// The sampler before it learned to sort only as far as needed: a full sort of every
// candidate. With top-p or min-p cutting, the fast path must pick the same tokens.
int32_t FullSortSample(const SamplerOptions& p, const std::vector<float>& logits, double u) {
  struct C {
    int32_t id;
    float logit;
    float p;
  };
  std::vector<C> c(logits.size());
  for (size_t i = 0; i < c.size(); ++i) c[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  std::sort(c.begin(), c.end(),
            [](const C& a, const C& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
  auto softmax = [&](size_t n, float t) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += (c[i].p = std::exp((c[i].logit - c[0].logit) / t));
    for (size_t i = 0; i < n; ++i) c[i].p = static_cast<float>(c[i].p / sum);
  };
  size_t n = c.size();
  softmax(n, 1.0f);
  if (p.top_p < 1.0f) {
    double cum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      cum += c[i].p;
      if (cum >= p.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (p.min_p > 0.0f) {
    size_t keep = 1;
    while (keep < n && c[keep].p >= c[0].p * p.min_p) ++keep;
    n = keep;
  }
  softmax(n, p.temperature);
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cum += c[i].p;
    if (u < cum) return c[i].id;
  }
  return c[n - 1].id;
}

TEST(Sampler, WithoutTopKPicksWhatAFullSortPicks) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  int same = 0, total = 0;
  for (int vocab : {50, 32000}) {
    for (float scale : {0.5f, 3.0f, 12.0f}) {  // flat to peaked distributions
      std::vector<float> logits(static_cast<size_t>(vocab));
      for (float& x : logits) x = scale * normal(rng);
      logits[3] = logits[4];  // a tie
      for (float top_p : {1.0f, 0.95f, 0.5f}) {
        for (float min_p : {0.0f, 0.05f}) {
          if (top_p == 1.0f && min_p == 0.0f) continue;  // nothing cut: see the next test
          for (float temp : {0.7f, 1.0f, 1.5f}) {
            SamplerOptions p;
            p.top_k = 0;
            p.top_p = top_p;
            p.min_p = min_p;
            p.temperature = temp;
            p.seed = static_cast<uint64_t>(total);
            TokenSampler s(p, vocab);
            std::mt19937_64 u_rng(p.seed);  // the sampler's own draw sequence
            for (int k = 0; k < 6; ++k) {
              const double u = static_cast<double>(u_rng() >> 11) * (1.0 / 9007199254740992.0);
              same += s.Sample(logits.data()) == FullSortSample(p, logits, u);
              ++total;
            }
          }
        }
      }
    }
  }
  // Only the order of the normalizing sums differs (last bits): equal in practice.
  EXPECT_EQ(same, total);
}

// Nothing cut (top-k 0, top-p 1, min-p 0): draws follow the softmax at the temperature.
TEST(Sampler, WithoutCutsDrawsFromTheSoftmax) {
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f, 0.5f, 3.0f};
  SamplerOptions p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.temperature = 0.8f;
  p.seed = 5;
  TokenSampler s(p, static_cast<int>(logits.size()));
  std::vector<int> counts(logits.size());
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(s.Sample(logits.data()))];
  double z = 0;
  for (float l : logits) z += std::exp(l / 0.8);
  for (size_t i = 0; i < logits.size(); ++i) {
    const double expected = std::exp(logits[i] / 0.8) / z;
    EXPECT_NEAR(counts[i] / static_cast<double>(draws), expected, 0.01) << "token " << i;
  }
}

}  // namespace
}  // namespace omnicoder
