// ExpertPager: experts paged from disk into a fixed pool of slots under a memory budget.
//
// Design goals:
// - Exact memory: the pool is a fixed number of slots allocated once; experts are read
//   with O_DIRECT so the page cache does not silently hold a second copy.
// - Same numbers as resident: each slot is repacked to the layout the kernels prefer,
//   exactly as resident weights are, so paged and resident runs are bit-identical.
// - Overlap I/O with compute: background I/O threads serve demand reads first, then
//   prefetches predicted by the forward loop (the next layer's router applied to the
//   current hidden state); Acquire waits only for what is still missing.
// - Observable: hits, misses, prefetch hits and waste, bytes, I/O stall time, predictor
//   recall/precision, and an optional routing trace.
// Non-goals: multiple readers at once (one forward thread), writable weights.
// Thread safety: Acquire/Release/Prefetch/OnRouted from the forward thread; the I/O
// threads share state under mutex_. Several reads in flight keep the disk's queue busy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/huge_buffer.h"
#include "kernels/kernel_table.h"
#include "model/expert_source.h"
#include "model/model_config.h"
#include "runtime/expert_cache.h"

namespace omnicoder {

struct PagerOptions {
  std::string path;  // the GGUF file the experts are read from
  int n_slots = 0;
  PagerPolicy policy = PagerPolicy::kLfu;
  bool prefetch = true;
  const KernelTable* kernels = nullptr;  // slots are repacked for its preferred layouts
  int io_threads = 4;                    // reads in flight at once (disk queue depth)
  // Test hook: a read of (layer, expert) fails with this status when it returns non-ok.
  std::function<Status(int layer, int expert)> inject_read_error;
};

class ExpertPager final : public ExpertSource {
 public:
  // Byte size of one slot for these experts (three matrices, O_DIRECT padding included).
  static uint64_t SlotBytes(const std::vector<std::vector<FfnWeights>>& experts, const uint8_t* file_base);

  static Result<std::unique_ptr<ExpertPager>> Create(const ModelConfig& config,
                                                     const std::vector<std::vector<FfnWeights>>& experts,
                                                     const uint8_t* file_base, const PagerOptions& options);
  ~ExpertPager() override;

  Result<FfnWeights> Acquire(int layer_idx, int expert_idx) override;
  void Release(int layer_idx, int expert_idx) override;
  void Prefetch(int layer_idx, const int* expert_ids, int n_ids) override;
  void OnRouted(int layer_idx, const int* expert_ids, int n_ids) override;
  void BeginWave(int layer_idx, const int* expert_ids, int n_ids) override;
  int MaxConcurrent() const override { return max_concurrent_; }
  bool WantsPrefetch() const override { return prefetch_; }

  PagerStats counters() const;
  int n_slots() const { return slots_.n_slots(); }
  uint64_t slot_bytes() const { return slot_bytes_; }

 private:
  enum class State { kEmpty, kLoading, kReady, kFailed };
  struct Region {
    uint64_t aligned_offset;  // file offset of the O_DIRECT read
    uint64_t read_bytes;      // multiple of 4096
    uint64_t skip;            // matrix data starts this far into the region
    uint64_t slot_offset;     // where the region lands in the slot
  };
  struct SlotInfo {
    State state = State::kEmpty;
    bool prefetched_unused = false;
    bool demand_counted = false;  // BeginWave started a demand read: its Acquire is that miss
    bool reserved = false;        // BeginWave holds a pin for the coming Acquire
    int holds = 0;                // pins owned by BeginWave / Acquire (not the loading pin)
    Status error;
    FfnWeights weights;  // pointers into the slot once ready
  };
  // Experts are read in chunks so several reads of one expert are in flight at once.
  struct Chunk {
    int slot;
    int region;
    uint64_t offset;  // within the region
    uint64_t bytes;
  };
  struct Job {
    int key = -1;
    bool prefetch = false;
    int chunks_left = 0;
    Status error;
  };

  ExpertPager() = default;
  void IoLoop();
  void Enqueue(int slot, int key, bool prefetch);  // under mutex_
  void Promote(int slot);                          // under mutex_: prefetch chunks -> demand
  void Hold(int slot);                             // under mutex_: a consumer's pin
  void Unhold(int slot);
  Status ReadChunk(const Chunk& c);
  Status FinishExpert(int slot, int key, FfnWeights* out);
  int ClaimSlot(int key);  // under mutex_; -1 when no slot can be given up

  const std::vector<std::vector<FfnWeights>>* experts_ = nullptr;
  const uint8_t* file_base_ = nullptr;
  PagerOptions options_;
  int n_experts_ = 0, n_layers_ = 0, k_ = 0, total_experts_ = 0;
  int fd_ = -1;
  bool direct_io_ = false;
  bool prefetch_ = false;
  int max_concurrent_ = 0;
  uint64_t slot_bytes_ = 0;
  HugeBuffer pool_;
  std::vector<std::vector<std::vector<Region>>> regions_;  // [layer][expert][gate, up, down]

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_, work_cv_;
  ExpertSlots slots_{0, 0, PagerPolicy::kLru};
  std::vector<SlotInfo> info_;
  std::deque<Chunk> demand_, prefetches_;
  std::vector<Job> jobs_;  // per slot
  bool stop_ = false;
  uint64_t clock_ = 1;
  PagerStats counters_;
  std::vector<int> predicted_;  // [layer][k] last prediction for each layer (-1 none)
  std::vector<std::thread> io_threads_;
  int reads_in_flight_ = 0;
  int prefetch_loading_ = 0;  // slots claimed by prefetches whose read has not finished
  double busy_since_ = 0;
};

// Any expert source (resident or paged) with a routing trace written as it is routed.
class TracingExpertSource final : public ExpertSource {
 public:
  TracingExpertSource(std::unique_ptr<ExpertSource> inner, RoutingTraceWriter* trace)
      : inner_(std::move(inner)), trace_(trace) {}
  Result<FfnWeights> Acquire(int layer_idx, int expert_idx) override { return inner_->Acquire(layer_idx, expert_idx); }
  void Release(int layer_idx, int expert_idx) override { inner_->Release(layer_idx, expert_idx); }
  void Prefetch(int layer_idx, const int* ids, int n_ids) override { inner_->Prefetch(layer_idx, ids, n_ids); }
  void OnRouted(int layer_idx, const int* ids, int n_ids) override {
    trace_->OnRouted(layer_idx, ids, n_ids);
    inner_->OnRouted(layer_idx, ids, n_ids);
  }
  void BeginWave(int layer_idx, const int* ids, int n_ids) override { inner_->BeginWave(layer_idx, ids, n_ids); }
  int MaxConcurrent() const override { return inner_->MaxConcurrent(); }
  bool WantsPrefetch() const override { return inner_->WantsPrefetch(); }

 private:
  std::unique_ptr<ExpertSource> inner_;
  RoutingTraceWriter* trace_;
};

}  // namespace omnicoder
