// The MoE block alone decides its waves: with a source that holds only a few experts at
// once, every BeginWave names exactly the experts acquired next (distinct, at most
// MaxConcurrent, in acquire order), the waves of a layer cover its routed experts once,
// and the logits equal those computed in a single wave.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "format/gguf.h"
#include "kernels/kernel_table.h"
#include "model/forward.h"
#include "runtime/kv_cache.h"
#include "runtime/loaded_model.h"
#include "tests/common/test_models.h"
#include "threading/thread_pool.h"

namespace omnicoder {
namespace {

// Forwards to the resident experts and checks the wave protocol as it goes.
class WaveRecorder final : public ExpertSource {
 public:
  WaveRecorder(ExpertSource* inner, int cap) : inner_(inner), cap_(cap) {}
  Result<FfnWeights> Acquire(int layer, int expert) override {
    EXPECT_LT(next_, wave_.size()) << "acquire of expert " << expert << " outside the announced wave";
    if (next_ < wave_.size()) {
      EXPECT_EQ(wave_[next_], expert) << "acquire order differs from the wave";
    }
    ++next_;
    ++acquires_;
    EXPECT_TRUE(covered_.insert(expert).second) << "expert " << expert << " acquired twice in layer " << layer;
    return inner_->Acquire(layer, expert);
  }
  void Release(int layer, int expert) override { inner_->Release(layer, expert); }
  void OnRouted(int layer, const int* ids, int n) override {
    EXPECT_EQ(covered_, routed_) << "the previous layer's waves did not cover its routed experts";
    routed_ = std::set<int>(ids, ids + n);
    covered_.clear();
    inner_->OnRouted(layer, ids, n);
  }
  void BeginWave(int layer, const int* ids, int n) override {
    EXPECT_EQ(next_, wave_.size()) << "a wave began before the previous one was acquired";
    EXPECT_GE(n, 1);
    EXPECT_LE(n, cap_);
    wave_.assign(ids, ids + n);
    EXPECT_TRUE(std::is_sorted(wave_.begin(), wave_.end()) &&
                std::adjacent_find(wave_.begin(), wave_.end()) == wave_.end());
    for (int e : wave_) EXPECT_TRUE(routed_.count(e)) << "wave names unrouted expert " << e;
    next_ = 0;
    ++waves_;
    inner_->BeginWave(layer, ids, n);
  }
  int MaxConcurrent() const override { return cap_; }
  int waves() const { return waves_; }
  int acquires() const { return acquires_; }

 private:
  ExpertSource* inner_;
  int cap_;
  std::vector<int> wave_;
  size_t next_ = 0;
  std::set<int> routed_, covered_;
  int waves_ = 0, acquires_ = 0;
};

std::vector<float> RunWithCap(const LoadedModel& m, const std::vector<int32_t>& tokens, int cap, int* waves) {
  ThreadPool pool(2);
  ForwardContext ctx{&GetKernelTable(), &pool};
  KvOptions ko;
  ko.seq_ctx = 512;
  ko.type = DType::kF32;
  ko.max_batch = static_cast<int>(tokens.size());
  auto kv = KvCache::Create(m.config, ko);
  EXPECT_TRUE(kv.ok());
  auto scratch = CreateForwardScratch(m.config, static_cast<int>(tokens.size()), 512, 2);
  EXPECT_TRUE(scratch.ok());
  EXPECT_TRUE(kv.value()->Reserve(0, static_cast<int>(tokens.size()), 0).ok());
  std::vector<int32_t> pos(tokens.size()), rows = {static_cast<int32_t>(tokens.size()) - 1};
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int32_t>(i);
  std::vector<float> logits(m.config.vocab_size);
  WaveRecorder rec(m.experts.get(), cap);
  ForwardRequest r;
  r.tokens = tokens.data();
  r.n_tokens = static_cast<int>(tokens.size());
  r.pos = pos.data();
  r.out_rows = rows.data();
  r.n_out = 1;
  r.logits = logits.data();
  ModelRef mr{&m.config, &m.weights, &rec};
  Status s = Forward(ctx, mr, kv.value()->view(), *scratch.value(), r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  *waves = rec.waves();
  return logits;
}

TEST(MoeWaves, TheBlockDecidesWavesAndTheSourceFollows) {
  const std::string path = testing::TinyModelPath("olmoe-64x8");
  ModelLoadOptions mo;
  mo.kernels = &GetKernelTable();
  auto m = LoadModelFromGguf(GgufFile::Open(path).value(), mo);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::vector<int32_t> tokens = testing::TestTokens(40, 9);
  int one_wave = 0, small = 0;
  const std::vector<float> want = RunWithCap(*m.value(), tokens, 1 << 20, &one_wave);
  const std::vector<float> got = RunWithCap(*m.value(), tokens, 8, &small);
  EXPECT_EQ(one_wave, m.value()->config.n_layers);   // one wave per MoE layer
  EXPECT_GT(small, 4 * m.value()->config.n_layers);  // 40 tokens x top-8 of 64 need several of 8
  ASSERT_EQ(want.size(), got.size());
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), sizeof(float) * want.size())) << "wave size changed the logits";
}

}  // namespace
}  // namespace omnicoder
