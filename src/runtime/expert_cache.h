// ExpertSlots: which (layer, expert) occupies each slot of the expert pool, and which slot
// to give up when a new expert must come in.
//
// Design goals: one bookkeeping core shared by the live pager and the trace simulator,
// so the policy that runs is the policy that was measured. Policies:
//   lru   evict the expert whose last use is oldest;
//   lru2  LRU-2 (LRU-K, K = 2): evict the expert whose second-to-last use is oldest,
//         experts used once going first — frequency-aware, so experts that recur stay
//         while one-off visitors leave; use history is kept for evicted experts too;
//   lfu   evict the expert with the lowest use frequency, counted with exponential decay
//         (half-life kLfuHalfLife routing steps) so popularity can shift — suited to MoE
//         routing, where a few experts per layer are popular and access is cyclic;
//   min   Belady's optimal: evict the expert used farthest in the future (simulation only,
//         it needs the trace's future).
// Slots holding experts in use (pinned) are never evicted.
// Thread safety: none; the pager guards it with its mutex.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/status.h"
#include "omnicoder/types.h"

namespace omnicoder {

// Experts are keyed layer * n_experts + expert.
class ExpertSlots {
 public:
  ExpertSlots(int n_slots, int n_keys, PagerPolicy policy);

  int n_slots() const { return static_cast<int>(slots_.size()); }
  int Find(int key) const { return key_slot_[key]; }
  int KeyAt(int slot) const { return slots_[slot].key; }
  // Records a use of `key` at logical time `now` (whether resident or not).
  void Use(int key, uint64_t now);
  // The slot to (re)fill: an empty one, else the policy's victim among unpinned slots;
  // -1 when every slot is pinned. For kMin, next_use[key] is the time of key's next use.
  int Victim(const std::vector<uint64_t>* next_use = nullptr) const;
  static constexpr double kLfuHalfLife = 512.0;
  // Puts key in slot (evicting what was there).
  void Assign(int slot, int key);
  void Pin(int slot) { ++slots_[slot].pins; }
  void Unpin(int slot) { --slots_[slot].pins; }
  bool Pinned(int slot) const { return slots_[slot].pins > 0; }

 private:
  struct Slot {
    int key = -1;
    int pins = 0;
  };
  struct History {
    uint64_t last = 0, previous = 0;  // 0 = never
    double score = 0;                 // decayed use count as of `last`
  };
  double ScoreAt(const History& h, uint64_t now) const;
  PagerPolicy policy_;
  std::vector<Slot> slots_;
  std::vector<int> key_slot_;
  std::vector<History> history_;
  uint64_t now_ = 0;
};

// A routing trace: for each token and layer the experts chosen (k per layer).
struct RoutingTrace {
  int n_layers = 0;
  int n_experts = 0;
  int k = 0;
  std::vector<int32_t> experts;  // [token][layer][k]
  int n_tokens() const { return n_layers * k == 0 ? 0 : static_cast<int>(experts.size()) / (n_layers * k); }
};

// Text format: a header line "# routing-trace layers L experts E k K" then one line per
// (token, layer): "token layer e1 e2 ... ek".
Status WriteRoutingTrace(const RoutingTrace& trace, const std::string& path);
Result<RoutingTrace> ReadRoutingTrace(const std::string& path);

// Writes a routing trace while a model runs: batches arrive layer by layer (k ids per
// token), the file is token-major, so a batch is written when its last layer is routed.
// The file goes through AtomicFile: it appears, complete, when Finish succeeds; the
// first write error is kept and returned by Finish.
class RoutingTraceWriter {
 public:
  static Result<std::unique_ptr<RoutingTraceWriter>> Open(const std::string& path, int n_layers, int n_experts, int k);
  ~RoutingTraceWriter();
  void OnRouted(int layer_idx, const int* expert_ids, int n_ids);
  Status Finish();

 private:
  RoutingTraceWriter() = default;
  std::unique_ptr<AtomicFile> file_;
  Status error_;
  bool finished_ = false;
  std::string line_;
  int n_layers_ = 0, k_ = 0;
  int64_t next_token_ = 0;
  std::vector<int32_t> batch_;  // [token][layer][k]
};

struct SimResult {
  uint64_t accesses = 0;
  uint64_t misses = 0;
  uint64_t bytes = 0;  // misses * expert_bytes
  double hit_rate() const { return accesses ? 1.0 - static_cast<double>(misses) / accesses : 0.0; }
};

// Replays the trace through n_slots slots (the k experts of a layer are pinned together).
Result<SimResult> SimulatePager(const RoutingTrace& trace, int n_slots, PagerPolicy policy, uint64_t expert_bytes);

// The trace SyntheticTraceOptions describes (deterministic in its seed).
RoutingTrace SyntheticTrace(const SyntheticTraceOptions& options);

}  // namespace omnicoder
