// The decode loop allocates nothing: every buffer is sized when the session is created.
// Global operator new is replaced in this test binary to count allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "tests/common/test_models.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

// Every form of new/delete is replaced (malloc-based), so sanitizers see matching pairs.
namespace {
void* Allocate(size_t n, size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  return align <= alignof(std::max_align_t) ? std::malloc(n)
                                            : std::aligned_alloc(align, (n + align - 1) / align * align);
}
}  // namespace

void* operator new(size_t n) {
  void* p = Allocate(n, 0);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) {
  return operator new(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return Allocate(n, 0);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return Allocate(n, 0);
}
void* operator new(size_t n, std::align_val_t a) {
  void* p = Allocate(n, static_cast<size_t>(a));
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n, std::align_val_t a) {
  return operator new(n, a);
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // our operator new is malloc
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  std::free(p);
}
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
