// ThreadPool: a fixed set of worker threads that run one parallel region at a time.
//
// Design: the caller is thread 0 and takes part in every region; workers spin briefly
// on a generation counter (regions in decode are ~10 us apart) and then sleep on it, so
// an idle engine uses no CPU. One pool per Engine, passed explicitly; no globals.
// Thread safety: Run/ParallelFor must be called from one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/function_ref.h"

namespace omnicoder {

class ThreadPool {
 public:
  // n_threads >= 1 counts the calling thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_idx) once on each thread; returns when all have finished.
  void Run(FunctionRef<void(int)> fn);

  // Splits [0, n) into size() contiguous chunks whose bounds are multiples of `grain`
  // (except the end) and runs fn(begin, end, thread_idx) on each non-empty chunk.
  void ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn);

  // Runs fn(i, thread_idx) for every i in [0, n), handing items out one at a time to
  // whichever thread is free: for items of unequal cost (causal attention over a prompt,
  // where token t sees t + 1 positions). Which thread runs an item must not matter.
  void ForEachDynamic(int64_t n, FunctionRef<void(int64_t, int)> fn);

  // Like ParallelFor, for memory-bound loops whose threads may run at different speeds
  // (a decode matmul on vCPUs): each thread starts on its contiguous share and claims it
  // front to back in shrinking pieces, so it reads one stream; a thread that runs out
  // takes the back half of the largest unclaimed remainder. fn(begin, end, thread_idx)
  // gets pieces whose bounds are multiples of grain (except n); which thread runs a piece
  // must not matter. More, smaller pieces handed round (ForEachDynamic) cost more than the
  // barrier they save: a Q4_0 decode lost 8 % at 16 pieces a matmul on Zen 5.
  void ParallelForBalanced(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn);

  // Worker idx (1 <= idx < size()) pulls [p, p + bytes) into its cache (up to
  // idle_prefetch_cap()) each time it finishes a region, until the next region starts:
  // memory the caller predicts it will read next (its share of the next matmul), fetched
  // while the caller works alone. A hint stays until replaced; nullptr or 0 bytes clears
  // it. Prefetches never fault, so a stale hint costs bandwidth, not correctness.
  // Call between regions, from the thread that calls Run.
  void SetIdlePrefetch(int idx, const void* p, size_t bytes);
  static constexpr size_t kIdlePrefetchMaxBytes = size_t{4095} * 64;
  // kIdlePrefetchMaxBytes, or a quarter of the L2 cache where the OS tells its size and it
  // is smaller (a 256 KiB L2 gets 64 KiB): the lines must still be there when used.
  size_t idle_prefetch_cap() const { return prefetch_cap_; }
  // Worker idx's hint as it will be fetched: whole cache lines, capped; {nullptr, 0} if none.
  struct PrefetchRange {
    const void* p;
    size_t bytes;
  };
  PrefetchRange IdlePrefetchHint(int idx) const;

 private:
  void WorkerLoop(int idx);
  // Claims and runs pieces of thread idx's range until it and every other range is empty.
  void DrainBalanced(int idx, int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t, int)> fn);

  // One thread's unclaimed grains [lo, hi) as lo << 32 | hi, on its own cache line.
  struct alignas(64) RangeSlot {
    std::atomic<uint64_t> range{0};
  };
  // One worker's prefetch hint as (address / 64) << 12 | cache lines (< 4096).
  struct alignas(64) HintSlot {
    std::atomic<uint64_t> hint{0};
  };
  // Prefetches the hint's lines until done or generation_ moves past seen.
  void IdlePrefetch(int idx, uint64_t seen);

  int n_threads_;
  size_t prefetch_cap_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  FunctionRef<void(int)>* current_ = nullptr;
  std::unique_ptr<RangeSlot[]> slots_;
  std::unique_ptr<HintSlot[]> hints_;
};

// Splits [0, n) for thread `idx` of `n_threads` in multiples of grain.
void SplitRange(int64_t n, int64_t grain, int n_threads, int idx, int64_t* begin, int64_t* end);

}  // namespace omnicoder
