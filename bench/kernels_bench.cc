// Kernel throughput (Google Benchmark): matmul of each weight type at decode shape
// (1 token) and prefill shapes (8, 32 and 256 tokens), per ISA level (amx: the AVX-512
// level plus AMX-INT8 tiles from 8-16 tokens). Weights span more
// than the last-level cache, so decode numbers are memory-bound like real models. The
// `threads:2` decode runs split each matrix's rows between two threads, as the engine
// does: on most machines one core cannot draw the whole memory bandwidth.
//   build/bin/kernels_bench --benchmark_filter=Q4_0
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/half.h"
#include "base/huge_buffer.h"
#include "kernels/kernel_table.h"
#include "kernels/repack.h"
#include "tensor/dtype.h"

namespace omnicoder {
namespace {

constexpr int kRows = 4096, kCols = 2048;
constexpr int kMinMatrices = 24;

// Copies of the weight matrix a matmul row rotates over: at least twice the L3 the OS
// reports, so each pass reads memory, not cache (a 2-vCPU Zen 5 VM reports 508 MB of L3;
// its 113 MB of Q4_0 copies read 36-38 GB/s on one thread against 23-27 for membw).
int MatricesFor(size_t matrix_bytes) {
  long l3 = 0;
#if defined(_SC_LEVEL3_CACHE_SIZE)
  l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
  size_t want = l3 > 0 ? 2 * static_cast<size_t>(l3) : 0;
  // But no more than a quarter of the memory now free (a huge reported L3, a small RAM).
  const long free_pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (free_pages > 0 && page > 0) {
    want = std::min(want, static_cast<size_t>(free_pages) * static_cast<size_t>(page) / 4);
  }
  return std::max<int>(kMinMatrices, static_cast<int>((want + matrix_bytes - 1) / matrix_bytes));
}

struct Fixture {
  HugeBuffer w;
  int matrices = 0;
  size_t row_bytes = 0;
  AlignedBuffer x;
  size_t x_row_bytes = 0;
  std::vector<float> y;
};

// Weights in the layout the kernel reads (x8: interleaved, as the loader repacks them;
// scale bytes read in the wrong layout could be denormals, which run slower).
// One fixture at a time (benchmarks of one key run together; each can be a gigabyte);
// nullptr when its memory cannot be had.
Fixture* Get(DType type, const MatMulKernel& k, int tokens, bool x8) {
  static std::tuple<DType, int, bool> key;
  static std::unique_ptr<Fixture> slot;
  if (slot && key == std::make_tuple(type, tokens, x8)) return slot.get();
  slot.reset();
  auto fixture = std::make_unique<Fixture>();
  Fixture& f = *fixture;
  f.row_bytes = RowBytes(type, kCols);
  f.matrices = MatricesFor(f.row_bytes * kRows);
  if (!f.w.Allocate(f.row_bytes * kRows * static_cast<size_t>(f.matrices)).ok()) return nullptr;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> row(kCols);
  for (int r = 0; r < kRows; ++r) {
    for (float& v : row) v = nd(rng);
    GetDTypeTraits(type).quantize(row.data(), f.w.data() + static_cast<size_t>(r) * f.row_bytes, kCols);
  }
  if (x8) Interleave8(type, f.w.data(), kRows, f.row_bytes);
  const size_t matrix_bytes = f.row_bytes * kRows;  // the other matrices: copies (quantizing is slow)
  for (int m = 1; m < f.matrices; ++m) std::memcpy(f.w.data() + m * matrix_bytes, f.w.data(), matrix_bytes);
  f.x_row_bytes = ActRowBytes(k.act, kCols);
  if (!f.x.Allocate(f.x_row_bytes * tokens)) return nullptr;
  for (int t = 0; t < tokens; ++t) {
    for (float& v : row) v = nd(rng);
    k.quantize_act(row.data(), f.x.data() + t * f.x_row_bytes, kCols);
  }
  f.y.resize(static_cast<size_t>(kRows) * tokens);
  key = {type, tokens, x8};
  slot = std::move(fixture);
  return slot.get();
}

// The avx512 level's decode forms (DecodeForm), whichever this CPU is given: `avx512w`
// (1-3 token tiles in 512-bit registers), `avx512n` (in 256-bit ones), `avx512h` (and Q6_K
// through the AVX2 kernel).
enum class Form { kAsDetected, kWide, kNarrow, kHalves };

const KernelTable& Table(Isa level, Form form) {
  if (form == Form::kAsDetected) return GetKernelTable(level);
  static const auto build = [](DecodeForm decode) {
    KernelTable t;
    FillRefKernels(&t);
    FillAvx2Kernels(&t);
    FillAvx512Kernels(&t, decode);
    return t;
  };
  static const KernelTable wide = build(DecodeForm::kWide), narrow = build(DecodeForm::kNarrow),
                           halves = build(DecodeForm::kHalves);
  return form == Form::kWide ? wide : form == Form::kNarrow ? narrow : halves;
}

// nta: the decode tiles' prefetch hint (MatMulArgs::prefetch_nta); the detected forms use
// what the engine uses on this CPU (KernelTable::decode_prefetch_nta).
void BM_MatMul(benchmark::State& state, DType type, Isa level, Form form, int tokens, bool x8, bool nta) {
  if (!IsaAvailable(level)) {
    state.SkipWithError("ISA not available");
    return;
  }
  static std::mutex setup;  // the fixture cache, when threads share a run
  MatMulKernel k = Table(level, form).matmul[static_cast<uint32_t>(type)];
  if (x8) {
    if (!k.matmul_x8) {
      state.SkipWithError("no x8 layout");
      return;
    }
    k.matmul = k.matmul_x8;
  }
  Fixture* fp;
  {
    std::lock_guard<std::mutex> lock(setup);
    fp = Get(type, k, tokens, x8);
  }
  if (fp == nullptr) {
    state.SkipWithError("no memory for the weights");
    return;
  }
  Fixture& f = *fp;
  // This thread's rows: whole 16-row units, as the engine's split.
  const int units = kRows / 16, threads = state.threads(), ti = state.thread_index();
  const int row_begin = 16 * (units * ti / threads), row_end = 16 * (units * (ti + 1) / threads);
  int m = 0;
  for (auto _ : state) {
    MatMulArgs a;
    a.w = f.w.data() + static_cast<size_t>(m) * kRows * f.row_bytes;
    a.w_row_bytes = f.row_bytes;
    a.x = f.x.data();
    a.x_row_bytes = f.x_row_bytes;
    a.y = f.y.data();
    a.y_stride = kRows;
    a.in_dim = kCols;
    a.n_tokens = tokens;
    a.prefetch_nta = nta;
    k.matmul(a, row_begin, row_end);
    benchmark::ClobberMemory();
    m = (m + 1) % f.matrices;
  }
  const int rows = row_end - row_begin;
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.row_bytes) * rows);
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * rows * kCols * tokens / 1e9,
                                                benchmark::Counter::kIsRate);
}

// Decode attention of one KV head's query group (n_q = 8, as TinyLlama / Llama 3) over
// n_pos F16 positions of head dim 64 or 128: scores (row-major K, one call), scores over
// dim-major K (kv_cache.h's layout) and values, these two in one call per block of 64
// positions as the engine makes them. `heads` copies rotate: 1 keeps K/V in L2 (the kernels' compute),
// 16 (8-16 MiB) reads them from L3 / memory like a group's share of a real decode step.
enum class AttnKind { kScores, kScoresKt, kValues };
void BM_Attention(benchmark::State& state, Isa level, int head_dim, int n_pos, AttnKind kind, int heads) {
  if (!IsaAvailable(level)) {
    state.SkipWithError("ISA not available");
    return;
  }
  const KernelTable& k = GetKernelTable(level);
  constexpr int kNq = 8;
  const size_t head_bytes = static_cast<size_t>(n_pos) * head_dim * 2;
  std::vector<uint16_t> kv(head_bytes / 2 * heads);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (uint16_t& h : kv) h = F32ToF16(nd(rng));
  std::vector<float> q(static_cast<size_t>(kNq) * head_dim), out(q.size());
  for (float& v : q) v = nd(rng);
  const size_t stride = static_cast<size_t>(n_pos) + 16;
  std::vector<float> scores(kNq * stride, 1.0f / n_pos);
  int h = 0;
  for (auto _ : state) {
    AttnArgs a;
    a.q = q.data();
    a.q_stride = head_dim;
    a.n_q = kNq;
    a.k = a.v = reinterpret_cast<const uint8_t*>(kv.data()) + h * head_bytes;
    a.kv_row_bytes = static_cast<size_t>(head_dim) * 2;
    a.kv_type = DType::kF16;
    a.head_dim = head_dim;
    a.n_pos = n_pos;
    a.scale = 0.125f;
    a.scores_stride = stride;
    a.out_stride = head_dim;
    if (kind == AttnKind::kValues) {
      constexpr int kBlock = 64;  // as the engine's calls: one per block, accumulating
      const uint8_t* head = a.v;
      a.n_pos = kBlock;
      for (int p0 = 0; p0 + kBlock <= n_pos; p0 += kBlock) {
        a.v = head + static_cast<size_t>(p0) * head_dim * 2;
        a.accumulate = p0 > 0;
        k.attn_values(a, scores.data() + p0, out.data());
      }
    } else if (kind == AttnKind::kScores) {
      k.attn_scores(a, scores.data());
    } else {
      constexpr int kBlock = 64;
      const uint8_t* head = a.k;
      a.k_dim_bytes = kBlock * 2;
      a.n_pos = kBlock;
      for (int p0 = 0; p0 + kBlock <= n_pos; p0 += kBlock) {
        a.k = head + static_cast<size_t>(p0) * head_dim * 2;
        k.attn_scores_kt(a, scores.data() + p0);
      }
    }
    benchmark::ClobberMemory();
    h = (h + 1) % heads;
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kNq * n_pos * head_dim / 1e9,
                                                benchmark::Counter::kIsRate);
}

void Register() {
  for (auto [level, ln] : {std::pair{Isa::kAvx2, "avx2"}, std::pair{Isa::kAvx512, "avx512"}}) {
    for (int hd : {64, 128}) {
      for (auto [kind, kn] : {std::pair{AttnKind::kScores, "scores"}, std::pair{AttnKind::kScoresKt, "scores_kt"},
                              std::pair{AttnKind::kValues, "values"}}) {
        for (int heads : {1, 16}) {
          const std::string name = std::string("Attn/") + kn + "/" + ln + "/hd" + std::to_string(hd) + "/q8/p4096/" +
                                   (heads == 1 ? "l2" : "l3");
          benchmark::RegisterBenchmark(name.c_str(), BM_Attention, level, hd, 4096, kind, heads)
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  const std::pair<DType, const char*> types[] = {
      {DType::kQ4_0, "Q4_0"}, {DType::kQ8_0, "Q8_0"},  {DType::kQ4_K, "Q4_K"}, {DType::kQ5_K, "Q5_K"},
      {DType::kQ6_K, "Q6_K"}, {DType::kF16, "F16"},    {DType::kQ4_1, "Q4_1"}, {DType::kQ5_0, "Q5_0"},
      {DType::kQ5_1, "Q5_1"}, {DType::kMXFP4, "MXFP4"}};
  struct Level {
    Isa isa;
    Form form;
    const char* name;
  };
  const Level levels[] = {{Isa::kRef, Form::kAsDetected, "ref"},       {Isa::kAvx2, Form::kAsDetected, "avx2"},
                          {Isa::kAvx512, Form::kAsDetected, "avx512"}, {Isa::kAvx512, Form::kWide, "avx512w"},
                          {Isa::kAvx512, Form::kNarrow, "avx512n"},    {Isa::kAvx512, Form::kHalves, "avx512h"},
                          {Isa::kAmx, Form::kAsDetected, "amx"}};
  for (auto [type, tn] : types) {
    for (const Level& level : levels) {
      for (int tokens : {1, 8, 32, 256}) {
        if (level.isa == Isa::kRef && tokens > 1) continue;
        if (level.form != Form::kAsDetected && tokens > 3) continue;  // the forms differ only there
        std::string name = std::string("MatMul/") + tn + "/" + level.name + "/t" + std::to_string(tokens);
        // The explicit forms' decode rows come with T0 prefetches and, as "/nta", PREFETCHNTA.
        const bool detected_nta = level.form == Form::kAsDetected && Table(level.isa, level.form).decode_prefetch_nta;
        auto add = [&](const std::string& n, bool x8, int threads) {
          auto reg = [&](const std::string& full, bool nta) {
            auto* b =
                benchmark::RegisterBenchmark(full.c_str(), BM_MatMul, type, level.isa, level.form, tokens, x8, nta)
                    ->Unit(benchmark::kMicrosecond);
            if (threads > 1) b->Threads(threads)->UseRealTime();
          };
          reg(n, detected_nta);
          if (level.form != Form::kAsDetected) reg(n + "/nta", true);
        };
        add(name, false, 1);
        if (tokens == 1) add(name, false, 2);
        if (CanInterleave8(type, kRows, kCols)) {
          add(name + "/x8", true, 1);
          if (tokens == 1) add(name + "/x8", true, 2);
        }
      }
    }
  }
}

const int kRegistered = (Register(), 0);

}  // namespace
}  // namespace omnicoder

BENCHMARK_MAIN();
