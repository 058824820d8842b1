// ThreadPool implementation: spin-then-wait workers on a generation counter.
#include "threading/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OC_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define OC_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define OC_CPU_RELAX() ((void)0)
#endif

namespace omnicoder {

namespace {
constexpr int kSpinIterations = 1 << 16;  // ~100-300 us before sleeping
}

void SplitRange(int64_t n, int64_t grain, int n_threads, int idx, int64_t* begin, int64_t* end) {
  if (grain < 1) grain = 1;
  const int64_t n_grains = (n + grain - 1) / grain;
  const int64_t per = n_grains / n_threads, extra = n_grains % n_threads;
  const int64_t g0 = idx * per + (idx < extra ? idx : extra);
  const int64_t g1 = g0 + per + (idx < extra ? 1 : 0);
  *begin = g0 * grain < n ? g0 * grain : n;
  *end = g1 * grain < n ? g1 * grain : n;
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int idx) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpinIterations; ++spin) {
      OC_CPU_RELAX();
      g = generation_.load(std::memory_order_acquire);
    }
    while (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    (*current_)(idx);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::Run(FunctionRef<void(int)> fn) {
  if (n_threads_ == 1) {
    fn(0);
    return;
  }
  current_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  fn(0);
  while (pending_.load(std::memory_order_acquire) != 0) OC_CPU_RELAX();
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn) {
  if (n <= 0) return;
  const int threads = n_threads_;
  auto body = [&](int idx) {
    int64_t b, e;
    SplitRange(n, grain, threads, idx, &b, &e);
    if (b < e) fn(b, e, idx);
  };
  Run(body);
}

void ThreadPool::ForEachDynamic(int64_t n, FunctionRef<void(int64_t, int)> fn) {
  if (n <= 0) return;
  std::atomic<int64_t> next{0};
  auto body = [&](int idx) {
    for (int64_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(i, idx);
    }
  };
  if (n == 1) {
    fn(0, 0);
    return;
  }
  Run(body);
}

}  // namespace omnicoder
