// KvCache: owns per-layer K and V storage (F16 by default, F32 optional) for a session.
//
// Layout: per layer, rows of KvKDim (K) and KvVDim (V) values, position-major, so one
// position's K for all heads is contiguous and a head is a fixed slice of each row. MLA
// layers cache one latent row per position (no V). Sliding-window layers keep a ring of
// window + max_batch - 1 rows (position p in row p % rows): enough for every query of a
// batch to see its whole window, and bounded by the window, not the context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "model/forward.h"
#include "model/model_config.h"

namespace omnicoder {

class KvCache {
 public:
  static Result<std::unique_ptr<KvCache>> Create(const ModelConfig& config, int capacity, DType type, int max_batch);
  static uint64_t BytesFor(const ModelConfig& config, int capacity, DType type, int max_batch);
  // Rows layer `l` keeps for a context of `capacity` positions.
  static int RowsFor(const LayerSpec& l, int capacity, int max_batch);
  // Lines for inspect and memory plans: KV bytes per token (F16) against what expanded
  // per-head K/V would need (MLA), windowed layers, and totals at 4k and 32k context.
  static std::string Describe(const ModelConfig& config);

  KvView& view() { return view_; }
  int capacity() const { return view_.capacity; }
  DType type() const { return view_.type; }
  uint64_t bytes() const { return bytes_; }

 private:
  KvCache() = default;
  std::vector<AlignedBuffer> k_, v_;
  KvView view_;
  uint64_t bytes_ = 0;
};

}  // namespace omnicoder
