#include "apps/cli/machine.h"

#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <thread>
#include <vector>

namespace omnicoder::cli {

std::string CpuModelName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    for (const char* key : {"model name", "Model", "Hardware"}) {
      const std::string k = key;
      if (line.compare(0, k.size(), k) == 0) {
        const size_t colon = line.find(':');
        if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
      }
    }
  }
  return "unknown";
}

double MeasureReadBandwidth(int threads, size_t bytes, int reps) {
  const size_t n = bytes / sizeof(uint64_t);
  void* mem = mmap(nullptr, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 0;
  madvise(mem, n * 8, MADV_HUGEPAGE);
  auto* a = static_cast<uint64_t*>(mem);
  for (size_t i = 0; i < n; ++i) a[i] = i;
  threads = std::max(1, threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
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
        sums[static_cast<size_t>(t)] = s0 + s1 + s2 + s3;
      });
    }
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(n * 8) / s / 1e9);
  }
  volatile uint64_t sink = 0;
  for (uint64_t v : sums) sink = sink + v;
  munmap(mem, n * 8);
  return best;
}

}  // namespace omnicoder::cli
