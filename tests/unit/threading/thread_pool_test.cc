// threading layer: ParallelFor covers every index exactly once, for any size and thread count.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "threading/thread_pool.h"

namespace omnicoder {
namespace {

TEST(ThreadPool, ParallelForCoversRangeOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 16, 17, 1000}) {
      for (int64_t grain : {1, 4, 16}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.ParallelFor(n, grain, [&](int64_t b, int64_t e, int t) {
          EXPECT_LT(t, threads);
          EXPECT_EQ(b % grain, 0);
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
      }
    }
  }
}

// Every item once, on a valid thread; a thread stuck on a slow item does not hold up the
// rest (the other threads take them).
TEST(ThreadPool, ForEachDynamicRunsEveryItemOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ForEachDynamic(n, [&](int64_t i, int t) {
        EXPECT_GE(t, 0);
        EXPECT_LT(t, threads);
        hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
  ThreadPool pool(2);
  std::atomic<int> done{0};
  pool.ForEachDynamic(100, [&](int64_t i, int) {
    if (i == 0) {  // the thread holding item 0 waits for the other to finish the rest
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (done.load() < 99 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      EXPECT_EQ(done.load(), 99) << "the free thread did not take the remaining items";
      return;
    }
    done++;
  });
}

TEST(ThreadPool, ParallelForBalancedCoversRangeOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 16, 17, 1000, 100003}) {
      for (int64_t grain : {1, 4, 16, 4096}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> bad_piece{false};
        pool.ParallelForBalanced(n, grain, [&](int64_t b, int64_t e, int t) {
          if (t < 0 || t >= threads || b % grain != 0 || (e != n && e % grain != 0) || b >= e) bad_piece = true;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        EXPECT_FALSE(bad_piece.load()) << "threads=" << threads << " n=" << n << " grain=" << grain;
        int64_t wrong = 0;
        for (int64_t i = 0; i < n; ++i) wrong += hits[static_cast<size_t>(i)].load() != 1;
        EXPECT_EQ(wrong, 0) << "threads=" << threads << " n=" << n << " grain=" << grain;
      }
    }
  }
}

// A thread stuck in its first piece does not hold up the rest of its share: the free
// threads take it from the back.
TEST(ThreadPool, ParallelForBalancedTakesASlowThreadsWork) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    const int64_t n = 4096;
    std::atomic<int64_t> done{0};
    std::atomic<bool> first{true};
    pool.ParallelForBalanced(n, 1, [&](int64_t b, int64_t e, int) {
      if (first.exchange(false)) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (done.load() < n - (e - b) && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        EXPECT_EQ(done.load(), n - (e - b)) << "the free threads did not take the stuck thread's share";
        EXPECT_LE(e - b, n / threads / 2) << "a first piece should be a part of a share";
      } else {
        done += e - b;
      }
    });
  }
}

// A region has few pieces: a 2048-row decode matmul (128 grains) must not become dozens
// of kernel calls (each starts a new stream of weights).
TEST(ThreadPool, ParallelForBalancedPiecesAreFew) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    std::atomic<int> calls{0};
    pool.ParallelForBalanced(128, 1, [&](int64_t, int64_t, int) { calls++; });
    EXPECT_LE(calls.load(), threads == 1 ? 1 : 40) << threads << " threads";
  }
}

TEST(ThreadPool, ManyShortRegions) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int r = 0; r < 20000; ++r) {
    pool.Run([&](int t) { sum += t + 1; });
  }
  EXPECT_EQ(sum.load(), 20000 * 3);
}

// A hint is kept as whole cache lines, capped, per worker; thread 0 (the caller) and
// threads outside the pool have none.
TEST(ThreadPool, IdlePrefetchHintIsWholeLinesCapped) {
  ThreadPool pool(3);
  alignas(64) static char buf[1 << 20];
  pool.SetIdlePrefetch(1, buf + 10, 100);  // bytes 10..109: lines 0 and 1
  EXPECT_EQ(pool.IdlePrefetchHint(1).p, static_cast<const void*>(buf));
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 128u);
  EXPECT_EQ(pool.IdlePrefetchHint(2).bytes, 0u);  // other workers keep their own
  pool.SetIdlePrefetch(2, buf + 64, sizeof(buf));
  EXPECT_EQ(pool.IdlePrefetchHint(2).p, static_cast<const void*>(buf + 64));
  EXPECT_EQ(pool.IdlePrefetchHint(2).bytes, pool.idle_prefetch_cap());
  EXPECT_LE(pool.idle_prefetch_cap(), ThreadPool::kIdlePrefetchMaxBytes);
  EXPECT_GE(pool.idle_prefetch_cap(), 64u);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 128u);
  pool.SetIdlePrefetch(1, nullptr, 4096);
  EXPECT_EQ(pool.IdlePrefetchHint(1).p, nullptr);
  EXPECT_EQ(pool.IdlePrefetchHint(1).bytes, 0u);
  pool.SetIdlePrefetch(2, buf, 0);
  EXPECT_EQ(pool.IdlePrefetchHint(2).bytes, 0u);
  pool.SetIdlePrefetch(0, buf, 4096);  // ignored: thread 0 is the caller
  pool.SetIdlePrefetch(3, buf, 4096);
  EXPECT_EQ(pool.IdlePrefetchHint(0).bytes, 0u);
  EXPECT_EQ(pool.IdlePrefetchHint(3).bytes, 0u);
}

// Workers prefetching their hint between regions still run every region (and, under
// TSan, the hint is handed over without a race); a hint changed between regions too.
TEST(ThreadPool, RegionsRunWhileWorkersPrefetch) {
  ThreadPool pool(2);
  static std::vector<char> big(64 << 20);
  std::atomic<int64_t> sum{0};
  for (int r = 0; r < 5000; ++r) {
    pool.SetIdlePrefetch(1, big.data() + static_cast<size_t>(r % 256) * (256 << 10), ThreadPool::kIdlePrefetchMaxBytes);
    pool.ParallelForBalanced(64, 1, [&](int64_t b, int64_t e, int) { sum += e - b; });
  }
  EXPECT_EQ(sum.load(), 5000 * 64);
}

TEST(SplitRange, ContiguousPartition) {
  int64_t prev_end = 0;
  for (int i = 0; i < 3; ++i) {
    int64_t b, e;
    SplitRange(100, 16, 3, i, &b, &e);
    EXPECT_EQ(b, prev_end);
    prev_end = e;
  }
  EXPECT_EQ(prev_end, 100);
}

}  // namespace
}  // namespace omnicoder
