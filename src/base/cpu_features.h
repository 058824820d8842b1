// CpuFeatures: what the CPU we run on can do (read once; used to fill the KernelTable).
#pragma once

#include <string>

namespace omnicoder {

struct CpuFeatures {
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, DQ, VL
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  // 512-bit instructions issue as two 256-bit halves (AMD Zen 4): where a kernel does
  // little work per byte loaded (decode), its 256-bit form is the faster one.
  bool zmm_halves = false;
  // Decode (1-3 token) tiles stream faster in 256-bit registers, row group by row group,
  // than in pairs of groups through 512-bit ones (AMD Zen 4 and Zen 5, measured).
  bool narrow_decode = false;
  // Decode's weight stream is prefetched non-temporally (PREFETCHNTA, not T0): on a Zen 5
  // VM end-to-end decode ran 4-13 % faster (Q4_0, Q4_K_M, Q8_0, MoE; Q6_K even). Not
  // measured on other CPUs, which keep T0.
  bool stream_nta = false;
  bool amx_bf16 = false;  // AMX tiles with BF16, and the kernel granted this process the tile state
  bool amx_int8 = false;
  bool neon = false;
  bool neon_dotprod = false;
  std::string ToString() const;
};

const CpuFeatures& GetCpuFeatures();

}  // namespace omnicoder
