// CPUID / HWCAP probing.
#include "base/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace omnicoder {

namespace {

#if defined(__x86_64__) || defined(__i386__)
unsigned long long ReadXcr0() {
  unsigned int eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

#if defined(__x86_64__) && defined(__linux__)
// Linux hands out the AMX tile data state only on request (arch_prctl, XFEATURE 18).
bool RequestAmxTileState() {
  constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}
#endif

CpuFeatures Probe() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const unsigned int signature = a;  // stepping, model, family
  bool osxsave = (c >> 27) & 1;
  bool fma = (c >> 12) & 1;
  bool f16c = (c >> 29) & 1;
  if (!osxsave) return f;
  unsigned long long xcr0 = ReadXcr0();
  bool ymm_os = (xcr0 & 0x6) == 0x6;
  bool zmm_os = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  bool avx2 = (b >> 5) & 1;
  bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
  bool avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  bool vnni512 = (c >> 11) & 1;
  const bool amx_tile = (d >> 24) & 1, amx_bf16 = (d >> 22) & 1, amx_int8 = (d >> 25) & 1;
  const bool tile_os = (xcr0 & 0x60000) == 0x60000;  // XTILECFG and XTILEDATA enabled
  f.avx2 = ymm_os && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_os && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512_vnni = f.avx512 && vnni512;
  // Vendor "AuthenticAMD" and family 0x19 (Zen 3 / Zen 4; only Zen 4 has AVX-512) or
  // 0x1a (Zen 5, which runs 512 bits whole, yet decodes faster in the narrow tiles too:
  // kernels_bench t1 x8 on an EPYC Zen 5, Q4_0 22-24 vs 14-17 GB/s a core).
  unsigned int a0 = 0, b0 = 0, c0 = 0, d0 = 0;
  __get_cpuid(0, &a0, &b0, &c0, &d0);
  const bool amd = b0 == 0x68747541 && d0 == 0x69746e65 && c0 == 0x444d4163;
  const unsigned int base_family = (signature >> 8) & 0xf;
  const unsigned int family = base_family + (base_family == 0xf ? (signature >> 20) & 0xff : 0);
  f.zmm_halves = f.avx512 && amd && family == 0x19;
  f.narrow_decode = f.avx512 && amd && (family == 0x19 || family == 0x1a);
  f.stream_nta = f.avx2 && amd && family == 0x1a;
  unsigned int a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) {
    f.avx_vnni = f.avx2 && ((a1 >> 4) & 1);
    f.avx512_bf16 = f.avx512 && ((a1 >> 5) & 1);
  }
#if defined(__x86_64__) && defined(__linux__)
  if (f.avx512 && amx_tile && tile_os && (amx_bf16 || amx_int8) && RequestAmxTileState()) {
    f.amx_bf16 = amx_bf16;
    f.amx_int8 = amx_int8;
  }
#endif
#elif defined(__aarch64__)
  f.neon = true;
  unsigned long caps = getauxval(AT_HWCAP);
  f.neon_dotprod = (caps & HWCAP_ASIMDDP) != 0;
#endif
  return f;
}

}  // namespace

std::string CpuFeatures::ToString() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(avx512, "avx512");
  add(avx512_vnni, "avx512_vnni");
  add(avx512_bf16, "avx512_bf16");
  add(avx_vnni, "avx_vnni");
  add(zmm_halves, "zmm_halves");
  add(narrow_decode, "narrow_decode");
  add(stream_nta, "stream_nta");
  add(amx_bf16, "amx_bf16");
  add(amx_int8, "amx_int8");
  add(neon, "neon");
  add(neon_dotprod, "dotprod");
  return s.empty() ? "scalar" : s;
}

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Probe();
  return features;
}

}  // namespace omnicoder
