// ThreadPool implementation: spin-then-wait workers on a generation counter.
#include "threading/thread_pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

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
// A waiting thread pauses (PAUSE) for kPauseTime — longer than a decode step's gaps
// between regions — then yields its core until kSpinTime has passed, and only then does a
// worker sleep. A process that shares the cores (another model, a parallel ctest's other
// test) runs while this one waits: two 2-thread processes on the 2-vCPU Zen 5 VM that
// only paused (~1.3 ms) took 70 s together against 30 s one after the other; with the
// yields, 36 s. Time, not a count of PAUSEs: one PAUSE takes ~20 ns on Zen 5, ~40 ns on
// recent Intel cores and ~3 ns on older ones.
constexpr auto kPauseTime = std::chrono::microseconds(160);
constexpr auto kSpinTime = std::chrono::microseconds(1300);
constexpr unsigned kSpinsPerClockLook = 64;

// One wait's spinning: Spin() pauses or yields once and says whether the budget lasts.
class Spinner {
 public:
  bool Spin() {
    if (++spins_ % kSpinsPerClockLook == 0) {
      // The clock is first read after kSpinsPerClockLook spins: most waits end sooner.
      const auto now = std::chrono::steady_clock::now();
      if (spins_ == kSpinsPerClockLook) start_ = now;
      const auto waited = now - start_;
      yielding_ = waited >= kPauseTime;
      if (waited >= kSpinTime) return false;
    }
    if (yielding_) {
      std::this_thread::yield();
    } else {
      OC_CPU_RELAX();
    }
    return true;
  }

 private:
  unsigned spins_ = 0;
  bool yielding_ = false;
  std::chrono::steady_clock::time_point start_;
};

// A thread claims this fraction of its unclaimed grains at a time: big pieces first, small
// ones at the end, where a thread that runs out can still take the other's back half;
// but no piece below 1/kMinPieceDivisor of a share (a region stays a few dozen calls).
constexpr uint64_t kClaimDivisor = 4;
constexpr uint64_t kMinPieceDivisor = 16;
// Cache lines an idle worker prefetches between two looks at the generation counter: a
// new region waits at most this many line fills.
constexpr uint64_t kPrefetchLinesPerLook = 16;
constexpr uint64_t kHintLineBits = 12;

constexpr uint64_t Pack(uint64_t lo, uint64_t hi) {
  return lo << 32 | hi;
}
constexpr uint64_t Lo(uint64_t r) {
  return r >> 32;
}
constexpr uint64_t Hi(uint64_t r) {
  return r & 0xFFFFFFFFu;
}

// A packed idle-prefetch hint (first line << kHintLineBits | line count) as a byte range;
// 0 (no hint) is {nullptr, 0}.
ThreadPool::PrefetchRange UnpackHint(uint64_t h) {
  return {reinterpret_cast<const void*>(static_cast<uintptr_t>((h >> kHintLineBits) * 64)),
          static_cast<size_t>(h & ((uint64_t{1} << kHintLineBits) - 1)) * 64};
}

size_t IdlePrefetchCap() {
  long l2 = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE)
  l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (l2 <= 0) return ThreadPool::kIdlePrefetchMaxBytes;
  return std::max<size_t>(64, std::min(ThreadPool::kIdlePrefetchMaxBytes, static_cast<size_t>(l2) / 4 / 64 * 64));
}
}  // namespace

void SplitRange(int64_t n, int64_t grain, int n_threads, int idx, int64_t* begin, int64_t* end) {
  if (grain < 1) grain = 1;
  const int64_t n_grains = (n + grain - 1) / grain;
  const int64_t per = n_grains / n_threads, extra = n_grains % n_threads;
  const int64_t g0 = idx * per + (idx < extra ? idx : extra);
  const int64_t g1 = g0 + per + (idx < extra ? 1 : 0);
  *begin = g0 * grain < n ? g0 * grain : n;
  *end = g1 * grain < n ? g1 * grain : n;
}

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads),
      prefetch_cap_(IdlePrefetchCap()),
      slots_(std::make_unique<RangeSlot[]>(static_cast<size_t>(n_threads_))),
      hints_(std::make_unique<HintSlot[]>(static_cast<size_t>(n_threads_))) {
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
    for (Spinner spin; g == seen && spin.Spin();) g = generation_.load(std::memory_order_acquire);
    while (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    (*current_)(idx);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    IdlePrefetch(idx, seen);
  }
}

void ThreadPool::SetIdlePrefetch(int idx, const void* p, size_t bytes) {
  if (idx < 1 || idx >= n_threads_) return;
  const uint64_t first = reinterpret_cast<uintptr_t>(p) / 64;
  const uint64_t last = (reinterpret_cast<uintptr_t>(p) + std::min(bytes, prefetch_cap_) + 63) / 64;
  // (An address beyond 2^58, which no user space has, would not fit: no hint.)
  const bool fits = first < (uint64_t{1} << (64 - kHintLineBits));
  const uint64_t lines =
      p == nullptr || !fits ? 0 : std::min<uint64_t>(last - first, (uint64_t{1} << kHintLineBits) - 1);
  hints_[static_cast<size_t>(idx)].hint.store(lines == 0 ? 0 : first << kHintLineBits | lines,
                                              std::memory_order_relaxed);
}

ThreadPool::PrefetchRange ThreadPool::IdlePrefetchHint(int idx) const {
  if (idx < 1 || idx >= n_threads_) return {nullptr, 0};
  return UnpackHint(hints_[static_cast<size_t>(idx)].hint.load(std::memory_order_relaxed));
}

void ThreadPool::IdlePrefetch(int idx, uint64_t seen) {
  const PrefetchRange r = UnpackHint(hints_[static_cast<size_t>(idx)].hint.load(std::memory_order_relaxed));
  const uint64_t lines = r.bytes / 64;
  const char* line = static_cast<const char*>(r.p);
  for (uint64_t done = 0; done < lines; done += kPrefetchLinesPerLook) {
    if (generation_.load(std::memory_order_relaxed) != seen) return;
    const uint64_t end = std::min(lines, done + kPrefetchLinesPerLook);
    for (uint64_t i = done; i < end; ++i) __builtin_prefetch(line + i * 64, 0, 2);
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
  // Past the spin budget the caller keeps yielding: a region ends when its workers do.
  for (Spinner spin; pending_.load(std::memory_order_acquire) != 0;) (void)spin.Spin();
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

void ThreadPool::ParallelForBalanced(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t n_grains = (n + grain - 1) / grain;
  if (n_threads_ == 1 || n_grains >= (int64_t{1} << 32)) {
    ParallelFor(n, grain, fn);
    return;
  }
  for (int t = 0; t < n_threads_; ++t) {
    int64_t b, e;
    SplitRange(n_grains, 1, n_threads_, t, &b, &e);
    slots_[static_cast<size_t>(t)].range.store(Pack(static_cast<uint64_t>(b), static_cast<uint64_t>(e)),
                                               std::memory_order_relaxed);
  }
  // Run's generation bump (release) publishes the slots to the workers.
  Run([&](int idx) { DrainBalanced(idx, n, grain, fn); });
}

void ThreadPool::DrainBalanced(int idx, int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn) {
  std::atomic<uint64_t>& mine = slots_[static_cast<size_t>(idx)].range;
  const uint64_t n_grains = static_cast<uint64_t>((n + grain - 1) / grain);
  const uint64_t min_take = std::max<uint64_t>(1, n_grains / static_cast<uint64_t>(n_threads_) / kMinPieceDivisor);
  for (;;) {
    // Own range, front to back.
    uint64_t cur = mine.load(std::memory_order_acquire);
    while (Lo(cur) < Hi(cur)) {
      const uint64_t left = Hi(cur) - Lo(cur);
      const uint64_t take = std::min(left, std::max(min_take, left / kClaimDivisor));
      if (!mine.compare_exchange_weak(cur, Pack(Lo(cur) + take, Hi(cur)), std::memory_order_acq_rel)) continue;
      const int64_t b = static_cast<int64_t>(Lo(cur)) * grain;
      const int64_t e = static_cast<int64_t>(Lo(cur) + take) * grain;
      fn(b, e < n ? e : n, idx);
      cur = mine.load(std::memory_order_acquire);
    }
    // Out of work: the back half of the largest remainder becomes this thread's range.
    bool stole = false;
    while (!stole) {
      int victim = -1;
      uint64_t best = 0, seen = 0;
      for (int t = 0; t < n_threads_; ++t) {
        if (t == idx) continue;
        const uint64_t r = slots_[static_cast<size_t>(t)].range.load(std::memory_order_acquire);
        if (Lo(r) < Hi(r) && Hi(r) - Lo(r) > best) {
          best = Hi(r) - Lo(r);
          victim = t;
          seen = r;
        }
      }
      if (victim < 0) return;
      const uint64_t half = (best + 1) / 2;
      if (slots_[static_cast<size_t>(victim)].range.compare_exchange_strong(seen, Pack(Lo(seen), Hi(seen) - half),
                                                                            std::memory_order_acq_rel)) {
        mine.store(Pack(Hi(seen) - half, Hi(seen)), std::memory_order_release);
        stole = true;
      }
    }
  }
}

}  // namespace omnicoder
