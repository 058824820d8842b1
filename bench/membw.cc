// Memory read bandwidth probe (the one `omnicoder bench` uses): T threads each sum their
// slice of a large array; prints GB/s (best of R runs) as JSON. Used by
// bench/compare_llama.py to report the fraction of the bandwidth roofline reached.
//   build/bin/membw [GiB=1] [threads=2] [reps=10]
#include <cstdio>
#include <cstdlib>

#include "apps/cli/machine.h"

int main(int argc, char** argv) {
  const double gib = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 10;
  if (!(gib > 0 && gib <= 64) || threads < 1 || threads > 1024 || reps < 1) {
    std::fprintf(stderr, "usage: membw [GiB in (0, 64]] [threads >= 1] [reps >= 1]\n");
    return 2;
  }
  const double best = omnicoder::cli::MeasureReadBandwidth(threads, static_cast<size_t>(gib * (1ull << 30)), reps);
  if (best <= 0) return 1;
  std::printf("{\"threads\": %d, \"gib\": %.2f, \"best_gbs\": %.2f}\n", threads, gib, best);
  return 0;
}
