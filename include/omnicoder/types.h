// Plain option and statistics types shared by the library's layers and its public API:
// one definition per concept. Options that name a choice are enums, parsed from text
// only at the edges (CLI flags, C ABI, config files) with the helpers below.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "omnicoder/status.h"

namespace omnicoder {

enum class LogSeverity { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Kernel instruction set. kAuto: the best the CPU offers. kAmx: AVX-512 plus AMX-INT8
// tiles for prefill (where the CPU has them and the OS grants this process the tile
// state); kAvx512 keeps AMX only for training's BF16 products.
enum class Isa { kAuto = 0, kRef = 1, kAvx2 = 2, kAvx512 = 3, kNeon = 4, kAmx = 5 };

// Which paged expert leaves the pool. kMin (Belady's optimal, needs the future) exists
// only for replaying recorded traces.
enum class PagerPolicy { kLfu = 0, kLru2 = 1, kLru = 2, kMin = 3 };

// Element type of the KV cache.
enum class KvType { kF16 = 0, kF32 = 1 };

// "auto", "ref", "avx2", "avx512", "neon", "amx"; anything else is an InvalidArgument naming them.
Result<Isa> ParseIsa(std::string_view text);
const char* IsaName(Isa isa);
// "lfu", "lru2", "lru", "min".
Result<PagerPolicy> ParsePagerPolicy(std::string_view text);
const char* PagerPolicyName(PagerPolicy policy);
// "f16", "f32".
Result<KvType> ParseKvType(std::string_view text);
const char* KvTypeName(KvType type);

struct SamplerOptions {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  int repeat_last_n = 64;
  uint64_t seed = 0;
};

// Expert pager counters. Every acquire is exactly one of: hit, prefetch hit, miss.
struct PagerStats {
  uint64_t acquires = 0;
  uint64_t hits = 0;    // resident before it was routed, not brought in by a prefetch
  uint64_t misses = 0;  // demand reads
  uint64_t prefetch_issued = 0;
  uint64_t prefetch_hits = 0;    // first use of a prefetched expert (read done or in flight)
  uint64_t prefetch_wasted = 0;  // evicted before any use
  uint64_t bytes_read = 0;
  double read_seconds = 0;                                 // wall time with at least one read in flight
  double stall_seconds = 0;                                // time Acquire waited for reads
  uint64_t predicted = 0, predicted_used = 0, routed = 0;  // router-predictor precision/recall
  uint64_t decode_tokens = 0;
  int slots = 0, total_experts = 0;
};

// A synthetic routing trace with realistic locality: per layer a Zipf(zipf_s) popularity
// over a random permutation of the experts, and with probability `stickiness` a token
// reuses an expert the previous token chose in that layer.
struct SyntheticTraceOptions {
  int n_tokens = 1000;
  int n_layers = 16;
  int n_experts = 64;
  int k = 8;
  double zipf_s = 1.0;
  double stickiness = 0.3;
  uint64_t seed = 0;
};

// A training run's checkpoint evaluated on the whole of each validation set (sequences of
// the config's length, stride = length) and, for MoE, its routing per layer over those tokens.
struct ValidationResult {
  std::string name;  // "val-code", "val-english"
  int64_t n_tokens = 0, n_bytes = 0, n_predicted = 0;
  double nats_per_token = 0;
  double bits_per_byte = 0;  // over the predicted tokens' share of the bytes
};
struct LayerRoutingStats {
  int layer = 0;
  double max_over_mean = 0, min_over_mean = 0;  // slots routed to the busiest / idlest expert ÷ the mean
  double router_entropy = 0;                    // mean over tokens of the router softmax's entropy (nats)
  double max_entropy = 0;                       // ln(experts): a uniform router
};
struct TrainEvaluation {
  int step = 0;
  double elapsed_seconds = 0;
  int n_experts = 0;
  std::vector<ValidationResult> sets;
  std::vector<LayerRoutingStats> layers;  // empty for a dense model
};
}  // namespace omnicoder
