// Expert pager: eviction policies (incl. Belady MIN) on hand-made traces, traces, memory
// plans and budgets, paged output bit-identical to resident, read errors and truncation.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime/expert_cache.h"
#include "runtime/expert_pager.h"
#include "runtime/loaded_model.h"
#include "runtime/memory_plan.h"
#include "runtime/session.h"
#include "tests/common/test_models.h"
#include "threading/thread_pool.h"

namespace omnicoder {
namespace {

RoutingTrace Trace(int n_experts, int k, std::vector<int32_t> ids, int n_layers = 1) {
  RoutingTrace t;
  t.n_layers = n_layers, t.n_experts = n_experts, t.k = k;
  t.experts = std::move(ids);
  return t;
}

uint64_t Misses(const RoutingTrace& t, int slots, PagerPolicy p) {
  return SimulatePager(t, slots, p, 1).value().misses;
}

TEST(Eviction, CyclicPatternLruThrashesMinDoesNot) {
  // 1 2 3 repeated with 2 slots: LRU misses every access, Belady's MIN 6 of 9.
  const RoutingTrace t = Trace(4, 1, {1, 2, 3, 1, 2, 3, 1, 2, 3});
  EXPECT_EQ(Misses(t, 2, PagerPolicy::kLru), 9u);
  EXPECT_EQ(Misses(t, 2, PagerPolicy::kMin), 6u);
  EXPECT_EQ(Misses(t, 3, PagerPolicy::kLru), 3u);  // everything fits: cold misses only
}

TEST(Eviction, Lru2KeepsTheExpertUsedTwice) {
  // 0 is used twice, then one-off visitors 1, 2, 3 stream by, then 0 again.
  const RoutingTrace t = Trace(4, 1, {0, 0, 1, 0, 2, 3, 0});
  // Steps: 0 0 (one step each). LRU with 2 slots: ... 2 evicts 1? no: LRU evicts 0 at "3"
  // only if 0 is older than 2; LRU-2 evicts the once-used 2 instead.
  EXPECT_LT(Misses(t, 2, PagerPolicy::kLru2), Misses(t, 2, PagerPolicy::kLru));
}

TEST(Eviction, LfuKeepsThePopularExpert) {
  // Expert 0 comes back every other step; 1..6 rotate in between. With 2 slots LFU keeps 0
  // (hits on every return), LRU evicts it whenever two others come by first.
  std::vector<int32_t> ids;
  for (int i = 0; i < 30; ++i) ids.insert(ids.end(), {0, 1 + i % 6, 1 + (i + 3) % 6});
  const RoutingTrace t = Trace(7, 1, ids);
  EXPECT_LT(Misses(t, 2, PagerPolicy::kLfu), Misses(t, 2, PagerPolicy::kLru));
  EXPECT_LE(Misses(t, 2, PagerPolicy::kMin), Misses(t, 2, PagerPolicy::kLfu));
}

TEST(Eviction, ExpertsOfOneLayerAreHeldTogether) {
  // k = 2 with 2 slots: both experts of each step must be resident at once.
  const RoutingTrace t = Trace(4, 2, {0, 1, 2, 3, 0, 1});
  EXPECT_EQ(Misses(t, 2, PagerPolicy::kLru), 6u);
  EXPECT_FALSE(SimulatePager(t, 1, PagerPolicy::kLru, 1).ok());  // fewer slots than k
}

TEST(Eviction, MinIsNeverWorseOnRandomTraces) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const RoutingTrace t = SyntheticTrace({200, 4, 8, 2, 1.0, 0.3, seed});
    for (int slots : {2, 4, 9, 16}) {
      const uint64_t min = Misses(t, slots, PagerPolicy::kMin);
      EXPECT_LE(min, Misses(t, slots, PagerPolicy::kLru)) << slots;
      EXPECT_LE(min, Misses(t, slots, PagerPolicy::kLru2)) << slots;
      EXPECT_LE(min, Misses(t, slots, PagerPolicy::kLfu)) << slots;
    }
    EXPECT_EQ(Misses(t, 32, PagerPolicy::kLru), 32u);  // all 4x8 experts fit: each read once
  }
}

TEST(Traces, WriteReadRoundTripAndErrors) {
  const RoutingTrace t = SyntheticTrace({20, 3, 8, 2, 1.1, 0.5, 7});
  const std::string path = OC_WORK_DIR "_trace.txt";
  ASSERT_TRUE(WriteRoutingTrace(t, path).ok());
  auto back = ReadRoutingTrace(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->experts, t.experts);
  EXPECT_EQ(back->n_tokens(), 20);
  std::ofstream(path) << "# routing-trace layers 2 experts 4 k 1\n0 0 9\n";
  EXPECT_NE(ReadRoutingTrace(path).status().message().find("expert id"), std::string::npos);
  std::ofstream(path) << "garbage\n";
  EXPECT_FALSE(ReadRoutingTrace(path).ok());
  std::remove(path.c_str());
}

TEST(Traces, SyntheticLocalityMakesCachesWork) {
  const RoutingTrace skewed = SyntheticTrace({500, 8, 8, 2, 1.2, 0.5, 3});
  const RoutingTrace uniform = SyntheticTrace({500, 8, 8, 2, 0.0, 0.0, 3});
  const double a = SimulatePager(skewed, 24, PagerPolicy::kLru2, 1)->hit_rate();
  const double b = SimulatePager(uniform, 24, PagerPolicy::kLru2, 1)->hit_rate();
  EXPECT_GT(a, b + 0.1);
}

TEST(MemoryPlan, FitsSlotsAndRefusesTooSmallBudgets) {
  MemoryPlanInput in;
  in.baseline = 10 << 20, in.non_expert = 100 << 20, in.session = 20 << 20;
  in.slot_bytes = 10 << 20, in.experts_per_token = 2, in.total_experts = 64;
  in.budget = (10 + 100 + 20 + 24) * (1ull << 20) + 37 * (10ull << 20) + 5;
  auto p = PlanMemory(in);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->n_slots, 37);
  EXPECT_TRUE(p->prefetch);
  in.budget = (10 + 100 + 20 + 24) * (1ull << 20) + 15 * (1ull << 20);
  auto small = PlanMemory(in);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("below one token's working set"), std::string::npos);
  EXPECT_NE(small.status().message().find("use --mem-budget 174.00 MiB or more"), std::string::npos);
  in.budget = 4ull << 30;
  EXPECT_TRUE(PlanMemory(in)->all_resident);
}

TEST(MemoryPlan, ParsesBudgets) {
  EXPECT_EQ(ParseMemBudgetText("1G").value(), 1ull << 30);
  EXPECT_EQ(ParseMemBudgetText("1.5GiB").value(), 3ull << 29);
  EXPECT_EQ(ParseMemBudgetText("800M").value(), 800ull << 20);
  EXPECT_EQ(ParseMemBudgetText("4096").value(), 4096u);
  EXPECT_FALSE(ParseMemBudgetText("lots").ok());
  EXPECT_FALSE(ParseMemBudgetText("1Q").ok());
  EXPECT_FALSE(ParseMemBudgetText("-1G").ok());
  EXPECT_GT(ParseMemBudgetText("auto").value(), 0u);
}

// The default context: the trained length when its KV fits in half the available memory,
// else whole KV blocks of what fits, never below min(trained, 4096).
TEST(MemoryPlan, DefaultContextIsTheModelsAsFarAsMemoryAllows) {
  const uint64_t per_pos = 49152;  // 48 KiB of KV a position
  const uint64_t gib = 1ull << 30;
  EXPECT_EQ(DefaultCtxLenForMemory(131072, per_pos, 1, 64 * gib), 131072);  // 6 GiB of KV in 32 GiB
  EXPECT_EQ(DefaultCtxLenForMemory(131072, per_pos, 1, 4 * gib), 43648);    // 2 GiB / 48 KiB, in blocks of 64
  EXPECT_EQ(DefaultCtxLenForMemory(131072, per_pos, 8, 4 * gib), 5440);     // shared by 8 sequences
  EXPECT_EQ(DefaultCtxLenForMemory(131072, per_pos, 8, gib / 4), 4096);     // the floor
  EXPECT_EQ(DefaultCtxLenForMemory(2048, per_pos, 1, gib / 64), 2048);      // never past the trained length
  EXPECT_EQ(DefaultCtxLenForMemory(131072, 0, 1, gib), 131072);             // no full-attention KV at all
  EXPECT_EQ(DefaultCtxLen(131072), 4096);                                   // under a budget
  EXPECT_GT(AvailableMemoryBytes(), 0u);
}

// Runs a prompt then greedy decode steps; returns every step's logits.
std::vector<std::vector<float>> RunSteps(const std::string& path, const PagingOptions& paging, Status* error = nullptr,
                                         int steps = 10, PagerStats* counters = nullptr) {
  ThreadPool pool(2);
  const KernelTable& kernels = GetKernelTable();
  auto file = GgufFile::Open(path);
  EXPECT_TRUE(file.ok());
  ModelLoadOptions mo;
  mo.kernels = &kernels;
  mo.paging = paging;
  auto model = LoadModelFromGguf(std::move(file).value(), mo);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  SessionConfig sc;
  sc.ctx_len = 64;
  sc.max_batch = 16;
  auto session = SessionState::Create(*model.value(), kernels, pool, sc);
  std::vector<std::vector<float>> out;
  const std::vector<int32_t> prompt = testing::TestTokens(9, 5);
  Status s = session.value()->Eval(prompt.data(), static_cast<int>(prompt.size()));
  const int vocab = model.value()->config.vocab_size;
  for (int i = 0; s.ok() && i < steps; ++i) {
    const float* l = session.value()->Logits();
    out.emplace_back(l, l + vocab);
    const int32_t next = static_cast<int32_t>(std::max_element(l, l + vocab) - l);
    s = session.value()->Eval(&next, 1);
  }
  if (error) *error = s;
  if (counters && model.value()->pager) *counters = model.value()->pager->counters();
  return out;
}

TEST(Pager, PagedOutputIsBitIdenticalToResident) {
  for (const char* arch : {"mixtral", "qwen2moe", "qwen3moe"}) {
    for (DType type : {DType::kQ4_0, DType::kQ4_K, DType::kF16}) {
      const std::string path = testing::TinyModelPath(arch, type);
      const auto resident = RunSteps(path, PagingOptions{});
      ASSERT_EQ(resident.size(), 10u);
      for (int slots : {2, 3, 4, 5, 7}) {
        for (PagerPolicy policy : {PagerPolicy::kLru, PagerPolicy::kLru2, PagerPolicy::kLfu}) {
          for (bool prefetch : {true, false}) {
            PagingOptions po;
            po.expert_slots = slots;
            po.policy = policy;
            po.prefetch = prefetch;
            Status err;
            const auto paged = RunSteps(path, po, &err);
            ASSERT_EQ(paged.size(), resident.size())
                << arch << " " << GetDTypeTraits(type).name << " slots " << slots << " " << PagerPolicyName(policy)
                << " prefetch " << prefetch << ": " << err.ToString();
            for (size_t i = 0; i < paged.size(); ++i) {
              ASSERT_EQ(0, std::memcmp(paged[i].data(), resident[i].data(), paged[i].size() * 4))
                  << arch << " " << GetDTypeTraits(type).name << " slots " << slots << " " << PagerPolicyName(policy)
                  << " prefetch " << prefetch << " step " << i;
            }
          }
        }
      }
    }
  }
}

TEST(Pager, EveryAcquireIsOneHitPrefetchHitOrMiss) {
  const std::string path = testing::TinyModelPath("mixtral", DType::kQ4_0);
  for (int slots : {2, 3, 5, 8}) {
    for (bool prefetch : {true, false}) {
      PagingOptions po;
      po.expert_slots = slots;
      po.prefetch = prefetch;
      PagerStats c;
      Status err;
      RunSteps(path, po, &err, 20, &c);
      ASSERT_TRUE(err.ok()) << err.ToString();
      EXPECT_GT(c.acquires, 0u);
      EXPECT_EQ(c.acquires, c.hits + c.prefetch_hits + c.misses) << "slots " << slots << " prefetch " << prefetch;
      EXPECT_LE(c.prefetch_hits + c.prefetch_wasted, c.prefetch_issued);
      if (!prefetch) {
        EXPECT_EQ(c.prefetch_issued, 0u);
      }
      // Every expert of every layer fits: after the first reads, everything is a hit.
      if (slots == 8) {
        EXPECT_LE(c.misses + c.prefetch_hits, 8u);
      }
    }
  }
}

// Routes, acquires and releases experts of one layer as the MoE block does.
void UseExperts(ExpertPager& pager, int layer, std::vector<int> ids) {
  pager.OnRouted(layer, ids.data(), static_cast<int>(ids.size()));
  pager.BeginWave(layer, ids.data(), static_cast<int>(ids.size()));
  for (int e : ids) ASSERT_TRUE(pager.Acquire(layer, e).ok());
  for (int e : ids) pager.Release(layer, e);
}

TEST(Pager, RoutedExpertsAreNotEvictedBeforeTheirAcquire) {
  ModelLoadOptions mo;
  const KernelTable& kernels = GetKernelTable();
  mo.kernels = &kernels;
  mo.paging.expert_slots = 4;
  mo.paging.policy = PagerPolicy::kLfu;
  auto model = LoadModelFromGguf(GgufFile::Open(testing::TinyModelPath("mixtral", DType::kQ4_0)).value(), mo);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ExpertPager& pager = *model.value()->pager;
  UseExperts(pager, 0, {0, 1});
  for (int i = 0; i < 4; ++i) UseExperts(pager, 1, {0, 1});  // layer 1's experts: the frequent ones
  const PagerStats before = pager.counters();
  // Layer 0's experts are resident but rarely used; a prefetch for layer 1 arrives between
  // routing and acquiring them (as the forward loop's PrefetchNextLayer does).
  const int route[] = {0, 1}, next[] = {2, 3};
  pager.OnRouted(0, route, 2);
  pager.BeginWave(0, route, 2);
  pager.Prefetch(1, next, 2);
  for (int e : route) ASSERT_TRUE(pager.Acquire(0, e).ok());
  for (int e : route) pager.Release(0, e);
  const PagerStats after = pager.counters();
  EXPECT_EQ(after.hits - before.hits, 2u);
  EXPECT_EQ(after.misses, before.misses);
}

TEST(Pager, ReadErrorIsACleanError) {
  PagingOptions po;
  po.expert_slots = 3;
  po.inject_read_error = [](int layer, int expert) {
    return layer == 1 && expert == 2 ? IoError("injected: device not ready") : Status::Ok();
  };
  Status s;
  RunSteps(testing::TinyModelPath("mixtral", DType::kQ4_0), po, &s, 40);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected: device not ready"), std::string::npos);
}

TEST(Pager, TruncatedFileIsACleanError) {
  const std::string src = testing::TinyModelPath("mixtral", DType::kQ4_0);
  const std::string path = OC_WORK_DIR "_truncated.gguf";
  std::filesystem::copy_file(src, path, std::filesystem::copy_options::overwrite_existing);
  ThreadPool pool(1);
  const KernelTable& kernels = GetKernelTable();
  ModelLoadOptions mo;
  mo.kernels = &kernels;
  mo.paging.expert_slots = 2;
  mo.paging.prefetch = false;
  auto model = LoadModelFromGguf(GgufFile::Open(path).value(), mo);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // Cut the file after load: the last tensor (layer 1's up experts) loses its second half.
  const uint64_t size = std::filesystem::file_size(path);
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(size - 64 * 1024)), 0);
  SessionConfig sc;
  sc.ctx_len = 64;
  auto session = SessionState::Create(*model.value(), kernels, pool, sc).value();
  Status s;
  int32_t tok = 5;
  for (int i = 0; i < 60 && s.ok(); ++i, tok = (tok * 7 + 3) % 500 + 3) s = session->Eval(&tok, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace omnicoder
