// SessionState implementation.
#include "runtime/session.h"

#include <algorithm>
#include <new>

#include "base/strings.h"
#include "threading/thread_pool.h"

namespace omnicoder {

namespace {

KvOptions KvOptionsFor(const SessionConfig& c) {
  KvOptions o;
  o.n_seq = c.n_seq;
  o.seq_ctx = c.ctx_len;
  o.n_cells = c.n_cells;
  o.type = c.kv_type;
  o.max_batch = c.max_batch;
  return o;
}

}  // namespace

uint64_t SessionState::PlannedBytes(const LoadedModel& m, const SessionConfig& c, int n_threads) {
  return KvCache::BytesFor(m.config, KvOptionsFor(c)) +
         ForwardScratchBytes(m.config, c.max_batch, c.ctx_len, n_threads);
}

Result<std::unique_ptr<SessionState>> SessionState::Create(const LoadedModel& model, const KernelTable& kernels,
                                                           ThreadPool& pool, const SessionConfig& config) {
  if (config.ctx_len <= 0 || config.ctx_len > (1 << 22)) {
    return InvalidArgument(StrFormat("context size %d is outside [1, %d]", config.ctx_len, 1 << 22));
  }
  if (config.max_batch <= 0 || config.max_batch > 4096) {
    return InvalidArgument(StrFormat("batch size %d is out of range [1, 4096]", config.max_batch));
  }
  if (config.n_seq < 1 || config.n_seq > 4096) {
    return InvalidArgument(StrFormat("sequence count %d is out of range [1, 4096]", config.n_seq));
  }
  std::unique_ptr<SessionState> s(new SessionState());
  s->model_ = &model;
  s->ctx_.kernels = &kernels;
  s->ctx_.pool = &pool;
  s->max_batch_ = config.max_batch;
  OC_ASSIGN_OR_RETURN(s->kv_, KvCache::Create(model.config, KvOptionsFor(config)));
  OC_ASSIGN_OR_RETURN(s->scratch_, CreateForwardScratch(model.config, config.max_batch, config.ctx_len, pool.size()));
  s->scratch_bytes_ = ForwardScratchBytes(model.config, config.max_batch, config.ctx_len, pool.size());
  // Room for one output row per sequence without growing (decode never allocates).
  s->logits_.resize(static_cast<size_t>(model.config.vocab_size) * config.n_seq);
  for (auto* v : {&s->tokens_, &s->seq_, &s->pos_, &s->rows_}) v->resize(config.max_batch);
  s->fill_.resize(config.n_seq);
  s->eval_.reserve(config.max_batch);
  return s;
}

Status SessionState::CheckBatch(const BatchEntry* batch, int n) {
  if (n <= 0) return InvalidArgument("nothing to evaluate: no tokens");
  const int n_vocab = model_->config.vocab_size, n_seqs = kv_->n_seq();
  std::fill(fill_.begin(), fill_.end(), 0);
  for (int i = 0; i < n; ++i) {  // validate all before changing any state
    const BatchEntry& e = batch[i];
    if (e.token < 0 || e.token >= n_vocab) {
      return InvalidArgument(StrFormat("token id %d is outside the vocabulary [0, %d)", e.token, n_vocab));
    }
    if (e.seq < 0 || e.seq >= n_seqs) {
      return InvalidArgument(StrFormat("sequence id %d is outside [0, %d)", e.seq, n_seqs));
    }
    const int want = kv_->Length(e.seq) + fill_[e.seq]++;
    if (e.pos != want) {
      return InvalidArgument(
          StrFormat("token %d of the batch is at position %d of sequence %d, which holds %d "
                    "tokens: positions must continue the sequence",
                    i, e.pos, e.seq, want));
    }
  }
  return Status::Ok();
}

Status SessionState::Decode(const BatchEntry* batch, int n) {
  OC_RETURN_IF_ERROR(CheckBatch(batch, n));
  for (int s = 0; s < kv_->n_seq(); ++s) {
    if (fill_[s] == 0) continue;
    Status st = kv_->Reserve(s, fill_[s], /*pool=*/0);
    if (!st.ok()) {
      for (int r = 0; r < s; ++r) {
        if (fill_[r] > 0) (void)kv_->Truncate(r, kv_->Length(r));  // release what was reserved
      }
      return st;
    }
  }
  int n_out = 0;
  for (int i = 0; i < n; ++i) n_out += batch[i].logits;
  const size_t vocab = static_cast<size_t>(model_->config.vocab_size);
  if (logits_.size() < vocab * n_out) {
    // Only scoring (logits of many tokens at once) grows this; plain decoding never does.
    try {
      logits_.resize(vocab * n_out);
    } catch (const std::bad_alloc&) {
      return OutOfMemory(StrFormat("cannot hold the logits of %d tokens (%s); ask for fewer per call", n_out,
                                   HumanBytes(sizeof(float) * vocab * n_out).c_str()));
    }
  }
  n_out_ = 0;
  for (int done = 0; done < n;) {
    const int m = std::min(max_batch_, n - done);
    Status st = Step(batch + done, m, logits_.data() + vocab * n_out_);
    if (!st.ok()) return st;
    done += m;
  }
  return Status::Ok();
}

// One forward step over m <= max_batch tokens; the KV was reserved by Decode.
Status SessionState::Step(const BatchEntry* batch, int m, float* out) {
  int n_rows = 0;
  for (int i = 0; i < m; ++i) {
    tokens_[i] = batch[i].token, seq_[i] = batch[i].seq, pos_[i] = batch[i].pos;
    if (batch[i].logits) rows_[n_rows++] = i;
  }
  // Sliding-window rows one step at a time: the pool holds a window plus a step per
  // sequence (the step's tokens of a sequence are consecutive from its length).
  for (int i = 0; i < m; ++i) {
    if (i == 0 || seq_[i] != seq_[i - 1] || pos_[i] != pos_[i - 1] + 1) {
      int run = 1;
      while (i + run < m && seq_[i + run] == seq_[i] && pos_[i + run] == pos_[i] + run) ++run;
      OC_RETURN_IF_ERROR(kv_->Reserve(seq_[i], pos_[i] + run - kv_->Length(seq_[i]), /*pool=*/1));
    }
  }
  ForwardRequest r;
  r.tokens = tokens_.data();
  r.n_tokens = m;
  r.seq = seq_.data();
  r.pos = pos_.data();
  r.out_rows = rows_.data();
  r.n_out = n_rows;
  r.logits = out;
  ModelRef mr{&model_->config, &model_->weights, model_->experts.get()};
  OC_RETURN_IF_ERROR(Forward(ctx_, mr, kv_->view(), *scratch_, r));
  for (int i = 0; i < m; ++i) kv_->Advance(batch[i].seq, 1);
  n_out_ += n_rows;
  return Status::Ok();
}

Status SessionState::Eval(const int32_t* tokens, int n_tokens, bool all_logits) {
  if (n_tokens <= 0) return InvalidArgument("nothing to evaluate: no tokens");
  if (kv_->Length(0) + n_tokens > kv_->seq_ctx()) {
    return InvalidArgument(StrFormat("context is full: %d + %d tokens exceed the context size %d", kv_->Length(0),
                                     n_tokens, kv_->seq_ctx()));
  }
  eval_.clear();
  const int start = kv_->Length(0);
  for (int i = 0; i < n_tokens; ++i) eval_.push_back({tokens[i], 0, start + i, all_logits || i == n_tokens - 1});
  return Decode(eval_.data(), n_tokens);
}

const float* SessionState::Logits(int i) const {
  const size_t vocab = static_cast<size_t>(model_->config.vocab_size);
  if (n_out_ == 0) return logits_.data();
  if (i < 0 || n_out_ == 1) return logits_.data() + vocab * (n_out_ - 1);
  if (i >= n_out_) return nullptr;  // a row that was not evaluated
  return logits_.data() + vocab * i;
}

void SessionState::Reset() {
  for (int s = 0; s < kv_->n_seq(); ++s) kv_->Remove(s);
  n_out_ = 0;
}

void SessionState::Truncate(int pos) {
  if (pos >= 0 && pos < kv_->Length(0)) (void)kv_->Truncate(0, pos);
}

int SessionState::SeqLength(int seq) const {
  return seq >= 0 && seq < kv_->n_seq() ? kv_->Length(seq) : 0;
}

Status SessionState::SeqRemove(int seq) {
  if (seq < 0 || seq >= kv_->n_seq()) return InvalidArgument(StrFormat("sequence id %d is out of range", seq));
  kv_->Remove(seq);
  return Status::Ok();
}

Status SessionState::SeqTruncate(int seq, int len) {
  if (seq < 0 || seq >= kv_->n_seq()) return InvalidArgument(StrFormat("sequence id %d is out of range", seq));
  return kv_->Truncate(seq, len);
}

Status SessionState::SeqCopy(int src, int dst, int len) {
  return kv_->Copy(src, dst, len);
}

}  // namespace omnicoder
