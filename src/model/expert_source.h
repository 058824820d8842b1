// ExpertSource: the one narrow way the MoE block gets an expert's weights.
//
// The MoE block asks for (layer, expert) and gets three matrices that stay valid until
// it releases them. Behind this interface the weights may be resident in the mapped
// file (ResidentExpertSource) or paged in from disk under a memory budget (runtime's
// expert pager). Implementations must return bit-identical weights either way.
// Thread safety: Acquire/Release/Prefetch are called from the forward thread only.
#pragma once

#include <vector>

#include "base/status.h"
#include "model/weights.h"

namespace omnicoder {

class ExpertSource {
 public:
  virtual ~ExpertSource() = default;
  // Makes the expert's weights readable until Release; may block on I/O.
  virtual Result<FfnWeights> Acquire(int layer_idx, int expert_idx) = 0;
  // Ends an Acquire, or drops the hold OnRouted may have placed on a routed expert that
  // will not be acquired (an error in its wave). A no-op for an expert not held.
  virtual void Release(int layer_idx, int expert_idx) = 0;
  // Hint that these experts of layer_idx will be acquired soon.
  virtual void Prefetch(int layer_idx, const int* expert_ids, int n_ids) {}
  // A layer's routing decisions (token-major, k per token), before any of its experts is
  // acquired: for statistics and prediction only.
  virtual void OnRouted(int layer_idx, const int* expert_ids, int n_ids) {}
  // The experts (distinct, in the order they will be acquired, at most MaxConcurrent())
  // of the MoE block's next wave, decided by the block alone: a pager starts their reads
  // here and holds them (so nothing evicts them before their Acquire); each is then
  // Acquired or Released.
  virtual void BeginWave(int layer_idx, const int* expert_ids, int n_ids) {}
  // How many experts may be held (acquired) at once; the MoE block works in waves of this.
  virtual int MaxConcurrent() const { return 1 << 30; }
  // Whether the forward loop should predict the next layer's experts and Prefetch them.
  virtual bool WantsPrefetch() const { return false; }
};

// All experts readable in place (mmap): Acquire is a lookup.
class ResidentExpertSource final : public ExpertSource {
 public:
  explicit ResidentExpertSource(const std::vector<std::vector<FfnWeights>>* experts) : experts_(experts) {}
  Result<FfnWeights> Acquire(int layer_idx, int expert_idx) override {
    const FfnWeights& e = (*experts_)[layer_idx][expert_idx];
    return FfnWeights{e.gate, e.up, e.down};
  }
  void Release(int, int) override {}

 private:
  const std::vector<std::vector<FfnWeights>>* experts_;
};

}  // namespace omnicoder
