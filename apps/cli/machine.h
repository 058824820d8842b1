// What bench reports about the machine: the CPU's name and its measured read bandwidth
// (the roofline a memory-bound decode step is held to).
#pragma once

#include <cstddef>
#include <string>

namespace omnicoder::cli {

std::string CpuModelName();  // /proc/cpuinfo "model name" (or "unknown")
// GB/s of `threads` threads each summing its slice of a `bytes` buffer, best of `reps`.
double MeasureReadBandwidth(int threads, size_t bytes = 512u << 20, int reps = 5);

}  // namespace omnicoder::cli
