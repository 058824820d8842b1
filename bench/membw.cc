// Memory read bandwidth probe: T threads each sum their slice of a large array (AVX2 when
// built for it, plain loop otherwise); prints GB/s (best of R runs). Used by
// bench/compare_llama.py to report the fraction of the bandwidth roofline reached.
//   build/bin/membw [GiB=1] [threads=2] [reps=10]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/mman.h>

int main(int argc, char** argv) {
  const double gib = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 10;
  const size_t n = static_cast<size_t>(gib * (1ull << 30)) / sizeof(uint64_t);
  void* mem = mmap(nullptr, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 1;
  madvise(mem, n * 8, MADV_HUGEPAGE);
  uint64_t* a = static_cast<uint64_t*>(mem);
  for (size_t i = 0; i < n; ++i) a[i] = i;
  double best = 0;
  std::vector<uint64_t> sums(threads);
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t b = n * t / threads, e = n * (t + 1) / threads;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = b; i + 4 <= e; i += 4) {
          s0 += a[i];
          s1 += a[i + 1];
          s2 += a[i + 2];
          s3 += a[i + 3];
        }
        sums[t] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gbs = n * 8.0 / s / 1e9;
    if (gbs > best) best = gbs;
  }
  uint64_t check = 0;
  for (uint64_t s : sums) check += s;
  std::printf("{\"threads\": %d, \"gib\": %.2f, \"best_gbs\": %.2f, \"check\": %llu}\n", threads, gib, best,
              static_cast<unsigned long long>(check % 1000));
  munmap(mem, n * 8);
  return 0;
}
