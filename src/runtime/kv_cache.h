// KvCache: owns per-layer K and V storage (F16 by default, F32 optional) for a session.
//
// Layout: per layer, `capacity` rows of n_kv_heads*head_dim values, position-major, so
// one position's K for all heads is contiguous and a head is a fixed slice of each row.
#pragma once

#include <memory>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "model/forward.h"
#include "model/model_config.h"

namespace omnicoder {

class KvCache {
 public:
  static Result<std::unique_ptr<KvCache>> Create(const ModelConfig& config, int capacity, DType type);
  static uint64_t BytesFor(const ModelConfig& config, int capacity, DType type);

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
