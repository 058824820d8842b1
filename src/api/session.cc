// Session and Sampler: thin wrappers over runtime's SessionState and TokenSampler.
#include <algorithm>
#include <cmath>

#include "base/strings.h"

#include "api/api_impl.h"
#include "runtime/memory_plan.h"
#include "runtime/sampler.h"

namespace omnicoder {

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

namespace {

// A budgeted load planned for DefaultCtxLen; otherwise the trained context as far as
// memory allows (sliding-window layers are bounded by their window and not counted).
int DefaultSessionCtx(const LoadedModel& m, DType kv_type, int n_seq) {
  const int trained = m.config.ctx_len;
  if (m.has_plan) return DefaultCtxLen(trained);
  const uint64_t elem = kv_type == DType::kF32 ? 4 : 2;
  uint64_t per_position = 0;
  for (const LayerSpec& l : m.config.layers) {
    if (l.sliding_window == 0) per_position += l.KvBytesPerPosition(elem);
  }
  return DefaultCtxLenForMemory(trained, per_position, n_seq, AvailableMemoryBytes());
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Create(Engine& engine, Model& model, const SessionOptions& options) {
  const LoadedModel* loaded = ApiAccess::Of(model).loaded.get();
  if (!loaded) return InvalidArgument("model was loaded vocabulary-only; it cannot evaluate tokens");
  SessionConfig c;
  const int trained = loaded->config.ctx_len;
  constexpr int kMaxCtx = 1 << 22;
  if (options.ctx_len < 0 || options.ctx_len > kMaxCtx) {
    return InvalidArgument(StrFormat("context size %d is outside [1, %d] (0 = the model's, as far as memory allows)",
                                     options.ctx_len, kMaxCtx));
  }
  if (options.ctx_len > trained && !options.allow_beyond_trained_ctx) {
    return InvalidArgument(
        StrFormat("context size %d exceeds the %d tokens this model was trained on; outputs past "
                  "that are unreliable (allow it explicitly to go on)",
                  options.ctx_len, trained));
  }
  if (options.batch < 1 || options.batch > 4096) {
    return InvalidArgument(StrFormat("batch size %d is outside [1, 4096]", options.batch));
  }
  c.max_batch = options.batch;
  switch (options.kv_type) {
    case KvType::kF16:
      c.kv_type = DType::kF16;
      break;
    case KvType::kF32:
      c.kv_type = DType::kF32;
      break;
    default:
      return InvalidArgument("KV cache type is not one of f16, f32");
  }
  c.ctx_len = options.ctx_len > 0 ? options.ctx_len : DefaultSessionCtx(*loaded, c.kv_type, options.n_seq);
  c.n_seq = options.n_seq;
  c.n_cells = options.n_cells;
  auto impl = std::make_unique<Impl>();
  OC_ASSIGN_OR_RETURN(impl->state,
                      SessionState::Create(*loaded, *ApiAccess::Of(engine).kernels, *ApiAccess::Of(engine).pool, c));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::Eval(const std::vector<int32_t>& tokens, bool all_logits) {
  return impl_->state->Eval(tokens.data(), static_cast<int>(tokens.size()), all_logits);
}
const float* Session::Logits(int index) const {
  return impl_->state->Logits(index);
}

Status Session::Decode(const std::vector<BatchToken>& batch) {
  std::vector<BatchEntry>& b = impl_->batch;
  b.clear();
  for (const BatchToken& t : batch) b.push_back({t.token, t.seq, t.pos, t.logits});
  return impl_->state->Decode(b.data(), static_cast<int>(b.size()));
}
int Session::n_outputs() const {
  return impl_->state->n_outputs();
}
int Session::n_seq() const {
  return impl_->state->n_seq();
}
int Session::SeqLength(int seq) const {
  return impl_->state->SeqLength(seq);
}
Status Session::SeqRemove(int seq) {
  return impl_->state->SeqRemove(seq);
}
Status Session::SeqTruncate(int seq, int n_tokens) {
  return impl_->state->SeqTruncate(seq, n_tokens);
}
Status Session::SeqCopy(int src, int dst, int n_tokens) {
  return impl_->state->SeqCopy(src, dst, n_tokens);
}
int Session::vocab_size() const {
  return impl_->state->vocab_size();
}
int Session::position() const {
  return impl_->state->position();
}
int Session::capacity() const {
  return impl_->state->capacity();
}
void Session::Reset() {
  impl_->state->Reset();
}
uint64_t Session::memory_bytes() const {
  return impl_->state->MemoryBytes();
}

Status ValidateSamplerOptions(const SamplerOptions& o) {
  if (!std::isfinite(o.temperature)) return InvalidArgument("--temp must be a finite number (<= 0 means greedy)");
  if (o.top_k < 0) return InvalidArgument("--top-k must be >= 0 (0 = off)");
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) return InvalidArgument("--top-p must be in (0, 1] (1 = off)");
  if (!(o.min_p >= 0.0f && o.min_p <= 1.0f)) return InvalidArgument("--min-p must be in [0, 1] (0 = off)");
  if (!(o.repeat_penalty > 0.0f && o.repeat_penalty <= 100.0f)) {
    return InvalidArgument("--repeat-penalty must be in (0, 100] (1 = off)");
  }
  if (o.repeat_last_n < 0) return InvalidArgument("--repeat-last-n must be >= 0");
  return Status::Ok();
}

struct Sampler::Impl {
  TokenSampler sampler;
};

Sampler::Sampler(const SamplerOptions& o, int vocab_size) {
  // Out-of-range options (see ValidateSamplerOptions) fall back to "off", never to NaN.
  SamplerOptions p;
  p.temperature = std::isfinite(o.temperature) ? o.temperature : 0.0f;
  p.top_k = o.top_k > 0 ? o.top_k : 0;
  p.top_p = (o.top_p > 0.0f && o.top_p <= 1.0f) ? o.top_p : 1.0f;
  p.min_p = (o.min_p >= 0.0f && o.min_p <= 1.0f) ? o.min_p : 0.0f;
  p.repeat_penalty = (o.repeat_penalty > 0.0f && o.repeat_penalty <= 100.0f) ? o.repeat_penalty : 1.0f;
  p.repeat_last_n = o.repeat_last_n > 0 ? o.repeat_last_n : 0;
  p.seed = o.seed;
  impl_ = std::make_unique<Impl>(Impl{TokenSampler(p, vocab_size)});
}
Sampler::~Sampler() = default;
int32_t Sampler::Sample(const float* logits) {
  return impl_->sampler.Sample(logits);
}
void Sampler::Accept(int32_t token) {
  impl_->sampler.Accept(token);
}

}  // namespace omnicoder
