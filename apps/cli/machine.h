// What bench reports about the machine: the CPU's name and its measured read bandwidth
// (the roofline a memory-bound decode step is held to).
#pragma once

#include <string>

namespace omnicoder::cli {

std::string CpuModelName();  // /proc/cpuinfo "model name" (or "unknown")
// GB/s of `threads` threads each summing its slice of a 512 MiB buffer, best of 5.
double MeasureReadBandwidth(int threads);

}  // namespace omnicoder::cli
