// SessionState implementation.
#include "runtime/session.h"

#include <algorithm>
#include <new>

#include "base/strings.h"
#include "threading/thread_pool.h"

namespace omnicoder {

uint64_t SessionState::PlannedBytes(const LoadedModel& m, const SessionConfig& c, int n_threads) {
  return KvCache::BytesFor(m.config, c.ctx_len, c.kv_type, c.max_batch) +
         ForwardScratchBytes(m.config, c.max_batch, c.ctx_len, n_threads);
}

Result<std::unique_ptr<SessionState>> SessionState::Create(const LoadedModel& model, const KernelTable& kernels,
                                                           ThreadPool& pool, const SessionConfig& config) {
  if (config.ctx_len <= 0 || config.ctx_len > (1 << 22)) {
    return InvalidArgument(StrFormat("context size %d is out of range", config.ctx_len));
  }
  if (config.max_batch <= 0 || config.max_batch > 4096) {
    return InvalidArgument(StrFormat("batch size %d is out of range [1, 4096]", config.max_batch));
  }
  std::unique_ptr<SessionState> s(new SessionState());
  s->model_ = &model;
  s->ctx_.kernels = &kernels;
  s->ctx_.pool = &pool;
  s->max_batch_ = config.max_batch;
  OC_ASSIGN_OR_RETURN(s->kv_, KvCache::Create(model.config, config.ctx_len, config.kv_type, config.max_batch));
  OC_ASSIGN_OR_RETURN(s->scratch_, CreateForwardScratch(model.config, config.max_batch, config.ctx_len, pool.size()));
  s->scratch_bytes_ = ForwardScratchBytes(model.config, config.max_batch, config.ctx_len, pool.size());
  s->logits_.resize(static_cast<size_t>(model.config.vocab_size));
  return s;
}

Status SessionState::Eval(const int32_t* tokens, int n_tokens, bool all_logits) {
  if (n_tokens <= 0) return InvalidArgument("nothing to evaluate: no tokens");
  if (pos_ + n_tokens > kv_->capacity()) {
    return InvalidArgument(StrFormat("context is full: %d + %d tokens exceed the context size %d", pos_, n_tokens,
                                     kv_->capacity()));
  }
  const int n_vocab = model_->config.vocab_size;
  for (int i = 0; i < n_tokens; ++i) {  // validate all before changing any state
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return InvalidArgument(StrFormat("token id %d is outside the vocabulary [0, %d)", tokens[i], n_vocab));
    }
  }
  const size_t vocab = static_cast<size_t>(n_vocab);
  // Growing only happens for all_logits (scoring) calls, never in plain decoding.
  if (all_logits && logits_.size() < vocab * n_tokens) {
    // A scoring request for more rows than memory holds is an error, not an abort.
    try {
      logits_.resize(vocab * n_tokens);
    } catch (const std::bad_alloc&) {
      return OutOfMemory(StrFormat("cannot hold the logits of %d tokens (%s); score fewer tokens per call", n_tokens,
                                   HumanBytes(sizeof(float) * vocab * n_tokens).c_str()));
    }
  }
  ModelRef m{&model_->config, &model_->weights, model_->experts.get()};
  for (int done = 0; done < n_tokens;) {
    const int n = std::min(max_batch_, n_tokens - done);
    const bool last = done + n == n_tokens;
    ForwardRequest r;
    r.tokens = tokens + done;
    r.n_tokens = n;
    r.pos = pos_;
    r.all_logits = all_logits;
    r.logits = all_logits ? logits_.data() + vocab * done : (last ? logits_.data() : nullptr);
    Status st = Forward(ctx_, m, kv_->view(), *scratch_, r);
    if (!st.ok()) return st;
    pos_ += n;
    done += n;
  }
  n_logit_rows_ = all_logits ? n_tokens : 1;
  return Status::Ok();
}

const float* SessionState::Logits(int i) const {
  const size_t vocab = static_cast<size_t>(model_->config.vocab_size);
  if (i < 0 || n_logit_rows_ == 1) return logits_.data() + vocab * (n_logit_rows_ - 1);
  if (i >= n_logit_rows_) return nullptr;  // a row that was not evaluated
  return logits_.data() + vocab * i;
}

void SessionState::Truncate(int pos) {
  if (pos >= 0 && pos < pos_) pos_ = pos;
}

}  // namespace omnicoder
