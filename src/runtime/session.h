// SessionState: the KV cache, scratch and logits of one or more sequences over a
// LoadedModel.
//
// Decode runs a batch of tokens of several sequences (each token with its sequence and
// position, positions appending to what the sequence holds) in forward steps of at most
// max_batch tokens; Eval is the one-sequence form (sequence 0). Sequences can be removed,
// truncated and copied (a copy shares the source's KV blocks). Thread safety: one thread
// at a time; several sessions may share a LoadedModel and an engine's pool sequentially.
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
  int ctx_len = 0;     // positions one sequence can hold
  int max_batch = 64;  // tokens per forward call
  DType kv_type = DType::kF16;
  int n_seq = 1;    // sequence ids [0, n_seq)
  int n_cells = 0;  // KV positions of all sequences together (0: n_seq * ctx_len)
};

struct BatchEntry {
  int32_t token;
  int32_t seq;
  int32_t pos;
  bool logits;  // compute this token's next-token logits
};

class SessionState {
 public:
  static Result<std::unique_ptr<SessionState>> Create(const LoadedModel& model, const KernelTable& kernels,
                                                      ThreadPool& pool, const SessionConfig& config);
  static uint64_t PlannedBytes(const LoadedModel& model, const SessionConfig& config, int n_threads);

  // Appends tokens to sequence 0; all_logits keeps every token's logits (else the last).
  Status Eval(const int32_t* tokens, int n_tokens, bool all_logits = false);
  // Runs a batch. Validation and KV allocation errors change nothing; a failing forward
  // step (an expert read error, non-finite logits) leaves each sequence at the end of the
  // last step that completed.
  Status Decode(const BatchEntry* batch, int n);
  // Output row i (in batch order of the tokens that asked for logits); i < 0: the last.
  const float* Logits(int i = -1) const;
  int n_outputs() const { return n_out_; }
  int position() const { return kv_->Length(0); }
  int vocab_size() const { return model_->config.vocab_size; }
  int capacity() const { return kv_->seq_ctx(); }
  int n_seq() const { return kv_->n_seq(); }
  void Reset();
  // Drops tokens after `pos` of sequence 0 (pos <= position()).
  void Truncate(int pos);
  int SeqLength(int seq) const;
  Status SeqRemove(int seq);
  Status SeqTruncate(int seq, int len);
  Status SeqCopy(int src, int dst, int len);
  uint64_t MemoryBytes() const { return kv_->bytes() + scratch_bytes_; }

 private:
  SessionState() = default;
  Status CheckBatch(const BatchEntry* batch, int n);
  Status Step(const BatchEntry* batch, int n, float* out);
  const LoadedModel* model_ = nullptr;
  ForwardContext ctx_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ForwardScratch> scratch_;
  std::vector<float> logits_;
  std::vector<int32_t> tokens_, seq_, pos_, rows_, fill_;  // per step (sized max_batch)
  std::vector<BatchEntry> eval_;
  int n_out_ = 0;
  int max_batch_ = 0;
  uint64_t scratch_bytes_ = 0;
};

}  // namespace omnicoder
