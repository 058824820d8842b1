// Training matmul throughput against the core's measured FMA peak (Google Benchmark, one
// thread). FmaPeak: independent multiply-adds the compiler vectorizes for the target
// (512-bit where the CPU has AVX-512F) — the most f32 FLOP/s one core can do. Sgemm: the
// trainer's kernels (f32, and BF16 on AMX tiles where present) at omnicoder-nano's shapes:
// 4096 token rows (one micro-batch of 8 x 512) times a 256-wide layer, and the output layer.
//   build/bin/sgemm_bench [--benchmark_filter=Sgemm]
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "base/aligned_buffer.h"
#include "kernels/kernel_table.h"

namespace omnicoder {
namespace {

// Independent accumulator chains of 16 floats: as many as the registers hold (32 zmm with
// AVX-512: 16 chains of one register; 16 ymm with AVX2: 6 chains of two registers).
constexpr int kLanes = 16, kChains512 = 16, kChains256 = 6;

template <int kChains>
void FmaLoop(float* acc, float a, float b, int64_t iters) {
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) {
#pragma GCC unroll 16
      for (int l = 0; l < kLanes; ++l) acc[c * kLanes + l] = acc[c * kLanes + l] * a + b;
    }
  }
}

__attribute__((target("avx512f,fma"))) void FmaLoop512(float* acc, float a, float b, int64_t iters) {
  FmaLoop<kChains512>(acc, a, b, iters);
}
__attribute__((target("avx2,fma"))) void FmaLoop256(float* acc, float a, float b, int64_t iters) {
  FmaLoop<kChains256>(acc, a, b, iters);
}

void BM_FmaPeak(benchmark::State& state, bool wide) {
  if (!IsaAvailable(wide ? Isa::kAvx512 : Isa::kAvx2)) {
    state.SkipWithError("ISA not available");
    return;
  }
  const int chains = wide ? kChains512 : kChains256;
  alignas(64) float acc[kChains512 * kLanes];
  for (int i = 0; i < kChains512 * kLanes; ++i) acc[i] = 1.0f + i * 1e-3f;
  constexpr int64_t kIters = 1 << 16;
  for (auto _ : state) {
    (wide ? FmaLoop512 : FmaLoop256)(acc, 0.999f, 1e-4f, kIters);
    benchmark::DoNotOptimize(acc);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kIters * chains * kLanes * 2,
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void BM_Sgemm(benchmark::State& state, bool bf16, int m, int n, int k) {
  const KernelTable& t = GetKernelTable();
  const SgemmFn fn = bf16 ? t.sgemm_bf16 : t.sgemm;
  if (!fn) {
    state.SkipWithError("no AMX-BF16 on this CPU");
    return;
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * n), c(static_cast<size_t>(m) * n);
  for (float& v : a) v = nd(rng);
  for (float& v : b) v = nd(rng);
  AlignedBuffer pack;
  (void)pack.Allocate(kSgemmPackFloats * sizeof(float));
  SgemmArgs g;
  g.m = m, g.n = n, g.k = k;
  g.a = a.data(), g.a_row = k, g.a_col = 1;
  g.b = b.data(), g.b_row = n, g.b_col = 1;
  g.c = c.data(), g.ldc = n;
  for (auto _ : state) {
    fn(g, 0, m, 0, n, pack.as<float>());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * m * n * k,
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void Register() {
  benchmark::RegisterBenchmark("FmaPeak/avx512", BM_FmaPeak, true)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("FmaPeak/avx2", BM_FmaPeak, false)->Unit(benchmark::kMillisecond);
  struct Shape {
    const char* name;
    int m, n, k;
  };
  const Shape shapes[] = {{"layer_4096x256x256", 4096, 256, 256}, {"output_4096x8192x256", 4096, 8192, 256}};
  for (const Shape& s : shapes) {
    for (bool bf16 : {false, true}) {
      const std::string name = std::string("Sgemm/") + (bf16 ? "bf16_amx/" : "f32/") + s.name;
      benchmark::RegisterBenchmark(name.c_str(), BM_Sgemm, bf16, s.m, s.n, s.k)->Unit(benchmark::kMillisecond);
    }
  }
}

const int kRegistered = (Register(), 0);

}  // namespace
}  // namespace omnicoder

BENCHMARK_MAIN();
