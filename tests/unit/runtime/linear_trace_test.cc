// The decode trace that lets idle workers prefetch their share of the next matmul
// (LinearTrace in model/forward.h, RunLinear in model/blocks/linear.cc): after two decode
// steps every call of a dense model is known, and at the end of a step the worker holds
// its share of the next step's first matmul (layer 0's q/k/v); prompt batches are not
// traced. That the hints change no result is Session.ThreadCountDoesNotChangeLogits.
#include <gtest/gtest.h>

#include <algorithm>

#include "format/gguf.h"
#include "kernels/kernel_table.h"
#include "model/forward.h"
#include "runtime/kv_cache.h"
#include "runtime/loaded_model.h"
#include "tests/common/test_models.h"
#include "threading/thread_pool.h"

namespace omnicoder {
namespace {

class Stepper {
 public:
  Stepper(const LoadedModel& m, ThreadPool* pool, int max_tokens) : m_(m), pool_(pool) {
    KvOptions ko;
    ko.seq_ctx = 256;
    ko.type = DType::kF32;
    ko.max_batch = max_tokens;
    kv_ = KvCache::Create(m.config, ko).value();
    scratch_ = CreateForwardScratch(m.config, max_tokens, 256, pool->size()).value();
    logits_.resize(static_cast<size_t>(m.config.vocab_size));
  }
  void Step(int n_tokens) {
    const int at = kv_->Length(0);
    ASSERT_TRUE(kv_->Reserve(0, n_tokens, 0).ok());
    std::vector<int32_t> tokens = testing::TestTokens(n_tokens, at + 3), pos(static_cast<size_t>(n_tokens));
    for (int i = 0; i < n_tokens; ++i) pos[static_cast<size_t>(i)] = at + i;
    const int32_t row = n_tokens - 1;
    ForwardRequest r;
    r.tokens = tokens.data();
    r.n_tokens = n_tokens;
    r.pos = pos.data();
    r.out_rows = &row;
    r.n_out = 1;
    r.logits = logits_.data();
    ForwardContext ctx{&GetKernelTable(), pool_};
    ModelRef mr{&m_.config, &m_.weights, m_.experts.get()};
    const Status s = Forward(ctx, mr, kv_->view(), *scratch_, r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    kv_->Advance(0, n_tokens);
  }
  const LinearTrace& trace() const { return scratch_->trace; }

 private:
  const LoadedModel& m_;
  ThreadPool* pool_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ForwardScratch> scratch_;
  std::vector<float> logits_;
};

// Worker 1 of 2's share of layer 0's q/k/v region for one token: its first rows, in the
// matrix where its half of the combined rows (in 16-row grains) begins.
ThreadPool::PrefetchRange ExpectedQkvShare(const LoadedModel& m, size_t cap) {
  const AttentionWeights& a = m.weights.layers[0].attn;
  const WeightMatrix* ws[] = {&a.wq, &a.wk, &a.wv};
  int64_t total = 0;
  for (const WeightMatrix* w : ws) total += w->rows;
  int64_t g0, g1;
  SplitRange((total + 15) / 16, 1, 2, 1, &g0, &g1);
  int64_t at = g0 * 16, end = std::min(g1 * 16, total);
  for (const WeightMatrix* w : ws) {
    if (at < w->rows) {
      const int64_t r1 = std::min<int64_t>(w->rows, end);
      const size_t bytes = std::min(static_cast<size_t>(r1 - at) * w->row_bytes, cap);
      return {w->data + static_cast<size_t>(at) * w->row_bytes, (bytes + 63) / 64 * 64};
    }
    at -= w->rows;
    end -= w->rows;
  }
  return {nullptr, 0};
}

TEST(LinearTrace, DecodeStepsPredictTheNextMatmul) {
  ModelLoadOptions mo;
  mo.kernels = &GetKernelTable();
  auto loaded = LoadModelFromGguf(GgufFile::Open(testing::TinyModelPath("llama", DType::kQ4_0)).value(), mo);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const LoadedModel& m = *loaded.value();
  ThreadPool pool(2);
  Stepper st(m, &pool, 32);
  // Per layer q/k/v, o, gate/up, down; then the output matrix.
  const int calls = 4 * m.config.n_layers + 1;

  st.Step(20);  // a prompt batch: not traced
  EXPECT_EQ(st.trace().n, 0);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 0u);

  st.Step(1);  // first decode step: recorded, nothing to predict from
  EXPECT_EQ(st.trace().n, calls);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 0u);
  for (int k = 0; k < calls; ++k) EXPECT_FALSE(st.trace().calls[static_cast<size_t>(k)].stable) << k;

  st.Step(1);  // second: every call as before; its last call predicts the next step's first
  ASSERT_EQ(st.trace().n, calls);
  for (int k = 0; k < calls; ++k) EXPECT_TRUE(st.trace().calls[static_cast<size_t>(k)].stable) << k;
  const ThreadPool::PrefetchRange want = ExpectedQkvShare(m, pool.idle_prefetch_cap());
  ASSERT_NE(want.bytes, 0u);
  EXPECT_EQ(pool.IdlePrefetchHint(1).p, want.p);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, want.bytes);

  st.Step(1);
  EXPECT_EQ(pool.IdlePrefetchHint(1).p, want.p);

  st.Step(20);  // a prompt batch between decode steps leaves the trace as it was
  EXPECT_EQ(st.trace().n, calls);
  st.Step(1);
  for (int k = 0; k < calls; ++k) EXPECT_TRUE(st.trace().calls[static_cast<size_t>(k)].stable) << k;
  EXPECT_EQ(pool.IdlePrefetchHint(1).p, want.p);

  // Another model's steps on the same pool: its first decode step predicts nothing.
  Stepper other(m, &pool, 4);
  other.Step(1);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 0u);
}

}  // namespace
}  // namespace omnicoder
