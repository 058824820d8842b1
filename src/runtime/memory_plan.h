// MemoryPlan: how a process memory budget is split between resident weights, the session
// (KV cache + scratch), the process's own baseline, and the expert pool's slots.
//
// The budget is for the whole process — resident set plus the page cache it causes — so
// the plan starts from the process's measured resident size before any weight is read,
// and everything the engine allocates afterwards is sized here first.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace omnicoder {

// Rules the planner, the loader, the pager and sessions share (defined here only).
// Memory the engine needs beyond what the plan sizes: allocator, thread stacks, I/O buffers.
constexpr uint64_t kMemoryReserveBytes = 24ull << 20;
// A session's context when none is asked for, under a memory budget (the plan is sized
// for it at load): the trained context, at most this.
constexpr int kDefaultCtxCap = 4096;
inline int DefaultCtxLen(int trained_ctx_len) {
  return trained_ctx_len < kDefaultCtxCap ? trained_ctx_len : kDefaultCtxCap;
}
// Without a budget: the trained context, as far as the KV of n_seq sequences
// (kv_bytes_per_position each) fits in half of avail_bytes, in whole KV blocks; never
// below DefaultCtxLen (then allocating reports the shortage as before).
int DefaultCtxLenForMemory(int trained_ctx_len, uint64_t kv_bytes_per_position, int n_seq, uint64_t avail_bytes);
// Memory this process could still use: MemAvailable, within the cgroup limit if any.
uint64_t AvailableMemoryBytes();
// Reading ahead needs a second layer's worth of slots beside the ones being computed.
inline bool PrefetchFits(int n_slots, int experts_per_token) {
  return n_slots >= 2 * experts_per_token;
}

struct MemoryPlanInput {
  uint64_t budget = 0;
  uint64_t baseline = 0;      // resident bytes before weights (code, libraries, metadata)
  uint64_t non_expert = 0;    // weights kept resident
  uint64_t session = 0;       // KV cache + scratch + logits of the planned session
  uint64_t slot_bytes = 0;    // one expert (0 for dense models)
  int experts_per_token = 0;  // k: the least slots that can run a layer
  int total_experts = 0;      // layers x experts
  bool prefetch = true;       // wants k extra slots for reads ahead
};

struct MemoryPlan {
  MemoryPlanInput in;
  uint64_t reserve = 0;  // allocator, thread stacks, I/O buffers
  int n_slots = 0;
  bool all_resident = false;  // the pool holds every expert
  bool prefetch = false;
  std::string Describe() const;  // the table printed at load
};

// Fits the slots into the budget; InvalidArgument naming the minimum budget when even one
// token's working set does not fit.
Result<MemoryPlan> PlanMemory(const MemoryPlanInput& in);

// "1G", "1.5GiB", "800M", "512MiB", "4096" (bytes); "auto" = the cgroup memory limit if
// the process has one, else 90% of MemAvailable.
Result<uint64_t> ParseMemBudgetText(const std::string& text);
// Resident set size of this process (VmRSS), 0 when unknown.
uint64_t CurrentRssBytes();

}  // namespace omnicoder
