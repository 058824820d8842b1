// SessionState: one conversation's KV cache, scratch and position over a LoadedModel.
//
// Eval appends tokens (split into batches of at most max_batch) and leaves the logits of
// the last token (or of every token with all_logits). Thread safety: one thread at a
// time; several sessions may share a LoadedModel and an engine's pool sequentially.
#pragma once

#include <memory>
#include <vector>

#include "base/status.h"
#include "kernels/kernel_table.h"
#include "model/forward.h"
#include "runtime/kv_cache.h"
#include "runtime/loaded_model.h"

namespace omnicoder {

class ThreadPool;

struct SessionConfig {
  int ctx_len = 0;      // KV capacity in tokens
  int max_batch = 64;   // tokens per forward call
  DType kv_type = DType::kF16;
};

class SessionState {
 public:
  static Result<std::unique_ptr<SessionState>> Create(const LoadedModel& model, const KernelTable& kernels,
                                                      ThreadPool& pool, const SessionConfig& config);
  static uint64_t PlannedBytes(const LoadedModel& model, const SessionConfig& config, int n_threads);

  // Appends tokens; all_logits keeps every token's logits (last batch only otherwise).
  Status Eval(const int32_t* tokens, int n_tokens, bool all_logits = false);
  // Logits of the i-th token of the last Eval (all_logits) or of its last token (i = -1).
  const float* Logits(int i = -1) const;
  int position() const { return pos_; }
  int vocab_size() const { return model_->config.vocab_size; }
  int capacity() const { return kv_->capacity(); }
  void Reset() { pos_ = 0; }
  // Drops tokens after `pos` (pos <= position()).
  void Truncate(int pos);
  uint64_t MemoryBytes() const { return kv_->bytes() + scratch_bytes_; }

 private:
  SessionState() = default;
  const LoadedModel* model_ = nullptr;
  ForwardContext ctx_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ForwardScratch> scratch_;
  std::vector<float> logits_;
  int n_logit_rows_ = 0;
  int pos_ = 0;
  int max_batch_ = 0;
  uint64_t scratch_bytes_ = 0;
};

}  // namespace omnicoder
