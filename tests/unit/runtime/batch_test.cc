// Several sequences in one forward step: the same logits as decoding each alone, shared
// prefixes (SeqCopy) equal to recomputing them, truncate/remove, a full KV pool refused
// without changing anything, and sliding-window models.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/common/test_models.h"

namespace omnicoder {
namespace {

struct Loaded {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Model> model;
};

Loaded Load(const std::string& path) {
  Loaded s;
  s.engine = testing::TestEngine(2);
  auto m = Model::Load(*s.engine, path, LoadOptions{});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  s.model = std::move(m).value();
  return s;
}

std::unique_ptr<Session> NewSession(Loaded& s, int n_seq, int ctx = 512, int n_cells = 0) {
  SessionOptions so;
  so.ctx_len = ctx;
  so.kv_type = KvType::kF32;
  so.n_seq = n_seq;
  so.n_cells = n_cells;
  auto r = Session::Create(*s.engine, *s.model, so);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

double MaxAbsDiff(const float* a, const float* b, int n) {
  double m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

int ArgmaxOf(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

// 8 sequences with prompts of different lengths, then greedy steps with all 8 in one
// Decode; each must match a single-sequence session fed the same tokens.
void CheckEightTogether(const std::string& path, double tol) {
  Loaded s = Load(path);
  const int n_seq = 8, steps = 6;
  auto together = NewSession(s, n_seq);
  std::vector<std::vector<int32_t>> hist(n_seq);
  std::vector<BatchToken> batch;
  for (int q = 0; q < n_seq; ++q) {
    hist[q] = testing::TestTokens(3 + 5 * q, 40 + q);
    for (size_t i = 0; i < hist[q].size(); ++i) {
      batch.push_back({hist[q][i], q, static_cast<int32_t>(i), i + 1 == hist[q].size()});
    }
  }
  ASSERT_TRUE(together->Decode(batch).ok());
  const int V = together->vocab_size();
  for (int step = 0; step < steps; ++step) {
    ASSERT_EQ(together->n_outputs(), n_seq);
    batch.clear();
    for (int q = 0; q < n_seq; ++q) {
      auto alone = NewSession(s, 1);
      ASSERT_TRUE(alone->Eval(hist[q]).ok());
      const double d = MaxAbsDiff(together->Logits(q), alone->Logits(), V);
      EXPECT_LE(d, tol) << "sequence " << q << " step " << step;
      const int32_t next = ArgmaxOf(together->Logits(q), V);
      batch.push_back({next, q, static_cast<int32_t>(hist[q].size()), true});
      hist[q].push_back(next);
    }
    ASSERT_TRUE(together->Decode(batch).ok());
  }
}

// One token's row goes through the single-token kernel alone and through the 4-token
// tiles when batched: the same integer dot products, float sums in another order, so
// agreement is to rounding (measured <= 2e-6 of logits ~1), not bit for bit.
TEST(Batch, EightSequencesMatchEachAloneDense) {
  CheckEightTogether(testing::TinyModelPath("llama", DType::kQ8_0), 1e-4);
}
TEST(Batch, EightSequencesMatchEachAloneMoe) {
  CheckEightTogether(testing::TinyModelPath("qwen3moe", DType::kQ4_K), 1e-4);
}
TEST(Batch, EightSequencesMatchEachAloneF32Bitwise) {
  // F32 weights run the same float kernel for 1 and n tokens: identical bits.
  CheckEightTogether(testing::TinyModelPath("mixtral", DType::kF32), 0.0);
}
TEST(Batch, EightSequencesMatchEachAloneMla) {
  CheckEightTogether(testing::TinyModelPath("deepseek3", DType::kF32), 0.0);
}
TEST(Batch, EightSequencesMatchEachAloneSlidingWindow) {
  CheckEightTogether(testing::TinyModelPath("gpt-oss", DType::kF32), 1e-4);
}

TEST(Batch, CopiedPrefixEqualsRecomputedAndStaysPrivate) {
  Loaded s = Load(testing::TinyModelPath("qwen3moe", DType::kF32));
  auto session = NewSession(s, 3);
  const std::vector<int32_t> system = testing::TestTokens(100, 7);  // crosses a 64-position block
  ASSERT_TRUE(session->Eval(system).ok());
  ASSERT_TRUE(session->SeqCopy(0, 1, 100).ok());
  ASSERT_TRUE(session->SeqCopy(0, 2, 70).ok());  // a prefix that ends inside a block
  // Continue the three differently, in one batch.
  std::vector<BatchToken> b = {{11, 0, 100, true}, {12, 1, 100, true}, {13, 2, 70, true}};
  ASSERT_TRUE(session->Decode(b).ok());
  const int V = session->vocab_size();
  for (int q = 0; q < 3; ++q) {
    auto fresh = NewSession(s, 1);
    ASSERT_TRUE(fresh->Eval(std::vector<int32_t>(system.begin(), system.begin() + (q == 2 ? 70 : 100))).ok());
    ASSERT_TRUE(fresh->Eval({11 + q}).ok());
    // Same steps, same bits. The 70-token prefix was computed inside a 100-token prompt
    // (steps of 64 + 36 tokens) but fresh in 64 + 6: MoE experts see other token counts,
    // so their tiles sum in another order (rounding only).
    EXPECT_LE(MaxAbsDiff(session->Logits(q), fresh->Logits(), V), q == 2 ? 1e-4 : 0.0) << "sequence " << q;
  }
  EXPECT_EQ(session->SeqLength(0), 101);
  EXPECT_EQ(session->SeqLength(2), 71);
}

TEST(Batch, TruncateRemoveAndFullPool) {
  Loaded s = Load(testing::TinyModelPath("llama", DType::kF32));
  auto session = NewSession(s, 2, 512, /*n_cells=*/64);  // 1 + 2 (one partial per sequence) blocks of 64
  const std::vector<int32_t> a = testing::TestTokens(120, 3);
  ASSERT_TRUE(session->Eval(a).ok());
  std::vector<float> want(session->Logits(), session->Logits() + session->vocab_size());
  // Sequence 1 cannot get 70 more positions: refused, nothing changes.
  std::vector<BatchToken> b;
  for (int i = 0; i < 70; ++i) b.push_back({5, 1, i, i == 69});
  Status full = session->Decode(b);
  EXPECT_EQ(full.code(), StatusCode::kOutOfMemory) << full.ToString();
  EXPECT_EQ(session->SeqLength(1), 0);
  EXPECT_EQ(session->SeqLength(0), 120);
  // Truncate 0 to 50 (frees a block), then 1 fits; 0 re-extended equals the original.
  ASSERT_TRUE(session->SeqTruncate(0, 50).ok());
  ASSERT_TRUE(session->Decode(b).ok());
  ASSERT_TRUE(session->SeqRemove(1).ok());
  std::vector<BatchToken> rest;
  for (int i = 50; i < 120; ++i) rest.push_back({a[i], 0, i, i == 119});
  ASSERT_TRUE(session->Decode(rest).ok());
  // 120 tokens in steps of 64 + 56 before, now 50 + (64 + 6): other step shapes, so MoE-free
  // but the KV of positions 50..119 came from other steps: equal to rounding.
  EXPECT_LE(MaxAbsDiff(session->Logits(), want.data(), session->vocab_size()), 1e-4);
  // Positions must continue the sequence; ids must exist.
  EXPECT_FALSE(session->Decode({{1, 0, 7, true}}).ok());
  EXPECT_FALSE(session->Decode({{1, 2, 0, true}}).ok());
}

TEST(Batch, SlidingWindowTruncateLimit) {
  Loaded s = Load(testing::TinyModelPath("gpt-oss", DType::kF32));  // window 128
  auto session = NewSession(s, 2, 1024);
  ASSERT_TRUE(session->Eval(testing::TestTokens(600, 5)).ok());
  // The window layers released positions long before 600: going back to 100 is refused,
  // going back within reach works and matches a fresh computation.
  EXPECT_FALSE(session->SeqTruncate(0, 100).ok());
  EXPECT_FALSE(session->SeqCopy(0, 1, 100).ok());
  // Blocks of 64 positions: after 600 tokens the window (128) keeps blocks from position
  // 448, so a prefix of 575+ still has its whole window.
  EXPECT_FALSE(session->SeqCopy(0, 1, 560).ok());
  ASSERT_TRUE(session->SeqCopy(0, 1, 590).ok());
  ASSERT_TRUE(session->Decode({{9, 1, 590, true}}).ok());
  auto fresh = NewSession(s, 1, 1024);
  std::vector<int32_t> t = testing::TestTokens(600, 5);
  ASSERT_TRUE(fresh->Eval(std::vector<int32_t>(t.begin(), t.begin() + 590)).ok());
  ASSERT_TRUE(fresh->Eval({9}).ok());
  EXPECT_LE(MaxAbsDiff(session->Logits(), fresh->Logits(), session->vocab_size()), 1e-4);  // 600 vs 590 in steps
}

}  // namespace
}  // namespace omnicoder
