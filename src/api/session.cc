// Session and Sampler: thin wrappers over runtime's SessionState and TokenSampler.
#include <algorithm>

#include "api/api_impl.h"
#include "runtime/sampler.h"

namespace omnicoder {

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Create(Engine& engine, Model& model, const SessionOptions& options) {
  const LoadedModel* loaded = model.impl().loaded.get();
  if (!loaded) return InvalidArgument("model was loaded vocabulary-only; it cannot evaluate tokens");
  SessionConfig c;
  c.ctx_len = options.ctx_len > 0 ? options.ctx_len : std::min(loaded->config.ctx_len, 4096);
  c.max_batch = options.batch;
  if (options.kv_type == "f16") {
    c.kv_type = DType::kF16;
  } else if (options.kv_type == "f32") {
    c.kv_type = DType::kF32;
  } else {
    return InvalidArgument("KV cache type '" + options.kv_type + "' is not supported (f16, f32)");
  }
  auto impl = std::make_unique<Impl>();
  OC_ASSIGN_OR_RETURN(impl->state,
                      SessionState::Create(*loaded, *engine.impl().kernels, *engine.impl().pool, c));
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::Eval(const std::vector<int32_t>& tokens, bool all_logits) {
  return impl_->state->Eval(tokens.data(), static_cast<int>(tokens.size()), all_logits);
}
const float* Session::Logits(int index) const { return impl_->state->Logits(index); }
int Session::vocab_size() const { return impl_->state->vocab_size(); }
int Session::position() const { return impl_->state->position(); }
int Session::capacity() const { return impl_->state->capacity(); }
void Session::Reset() { impl_->state->Reset(); }
uint64_t Session::memory_bytes() const { return impl_->state->MemoryBytes(); }

struct Sampler::Impl {
  TokenSampler sampler;
};

Sampler::Sampler(const SamplerOptions& o, int vocab_size) {
  SamplingParams p;
  p.temperature = o.temperature;
  p.top_k = o.top_k;
  p.top_p = o.top_p;
  p.min_p = o.min_p;
  p.repeat_penalty = o.repeat_penalty;
  p.repeat_last_n = o.repeat_last_n;
  p.seed = o.seed;
  impl_ = std::make_unique<Impl>(Impl{TokenSampler(p, vocab_size)});
}
Sampler::~Sampler() = default;
int32_t Sampler::Sample(const float* logits) { return impl_->sampler.Sample(logits); }
void Sampler::Accept(int32_t token) { impl_->sampler.Accept(token); }

}  // namespace omnicoder
