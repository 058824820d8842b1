// The decode loop allocates nothing: every buffer is sized when the session is created.
// Global operator new is replaced in this test binary to count allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tests/common/test_models.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // our operator new is malloc
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace omnicoder {
namespace {

TEST(NoAllocation, DecodeStepsAndSamplingAllocateNothing) {
  for (const char* arch : {"llama", "qwen3moe", "qwen2moe"}) {
    auto engine = testing::TestEngine(2);
    auto model = Model::Load(*engine, testing::TinyModelPath(arch, DType::kQ4_0), LoadOptions{}).value();
    SessionOptions so;
    so.ctx_len = 64;
    auto session = Session::Create(*engine, *model, so).value();
    SamplerOptions sp;
    sp.seed = 1;
    sp.repeat_penalty = 1.1f;
    Sampler sampler(sp, session->vocab_size());
    ASSERT_TRUE(session->Eval(testing::TestTokens(5)).ok());
    std::vector<int32_t> next(1);
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 16; ++i) {
      next[0] = sampler.Sample(session->Logits());
      sampler.Accept(next[0]);
      if (!session->Eval(next).ok()) break;
    }
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << arch;
  }
}

}  // namespace
}  // namespace omnicoder
