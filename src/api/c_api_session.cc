// C API: sessions (batched evaluation, logits, sequence KV operations) and samplers.
#include <cmath>
#include <cstring>

#include "api/c_api_internal.h"

using namespace omnicoder;
using omnicoder::capi::Fail;
using omnicoder::capi::FromStatus;
using omnicoder::capi::Guard;
using omnicoder::capi::NullArgument;

namespace {

// Sizes handed in as size_t must fit the int the engine counts in.
constexpr size_t kMaxTokensPerCall = size_t{1} << 30;

}  // namespace

extern "C" {

oc_session_params oc_session_default_params(void) {
  const SessionOptions d;
  oc_session_params p;
  std::memset(&p, 0, sizeof(p));
  p.ctx_len = d.ctx_len;
  p.batch = d.batch;
  p.kv_type = OC_KV_F16;
  p.allow_beyond_trained_ctx = d.allow_beyond_trained_ctx;
  p.n_seq = d.n_seq;
  p.n_cells = d.n_cells;
  return p;
}

oc_status oc_session_create(oc_engine* engine, oc_model* model, const oc_session_params* params, oc_session** out) {
  return Guard([&] {
    if (!out) return NullArgument("out");
    *out = nullptr;
    if (!engine) return NullArgument("engine");
    if (!model) return NullArgument("model");
    const oc_session_params p = params ? *params : oc_session_default_params();
    SessionOptions o;
    o.ctx_len = p.ctx_len;
    o.batch = p.batch;
    o.kv_type = static_cast<KvType>(capi::RawEnum(p.kv_type));  // checked by Session::Create
    o.allow_beyond_trained_ctx = p.allow_beyond_trained_ctx != 0;
    o.n_seq = p.n_seq;
    o.n_cells = p.n_cells;
    Result<std::unique_ptr<Session>> s = Session::Create(*engine->engine, *model->model, o);
    if (!s.ok()) return FromStatus(s.status());
    auto handle = std::make_unique<oc_session>();
    handle->session = std::move(s).value();
    *out = handle.release();
    return OC_OK;
  });
}

void oc_session_free(oc_session* session) {
  delete session;
}

oc_status oc_session_eval(oc_session* session, const int32_t* tokens, size_t n_tokens, int32_t all_logits) {
  return Guard([&] {
    if (!session) return NullArgument("session");
    if (!tokens && n_tokens > 0) return NullArgument("tokens");
    if (n_tokens > kMaxTokensPerCall) return Fail(OC_ERR_INVALID_ARGUMENT, "too many tokens in one call");
    const std::vector<int32_t> ids(tokens, tokens + n_tokens);
    return FromStatus(session->session->Eval(ids, all_logits != 0));
  });
}

oc_status oc_session_decode(oc_session* session, const oc_batch_token* batch, size_t n_tokens) {
  return Guard([&] {
    if (!session) return NullArgument("session");
    if (!batch && n_tokens > 0) return NullArgument("batch");
    if (n_tokens > kMaxTokensPerCall) return Fail(OC_ERR_INVALID_ARGUMENT, "too many tokens in one call");
    std::vector<BatchToken>& b = session->batch;
    b.clear();
    for (size_t i = 0; i < n_tokens; ++i)
      b.push_back({batch[i].token, batch[i].seq, batch[i].pos, batch[i].logits != 0});
    return FromStatus(session->session->Decode(b));
  });
}

int32_t oc_session_n_outputs(const oc_session* session) {
  return session ? session->session->n_outputs() : 0;
}
const float* oc_session_logits(const oc_session* session, int32_t index) {
  return session ? session->session->Logits(index) : nullptr;
}
int32_t oc_session_vocab_size(const oc_session* session) {
  return session ? session->session->vocab_size() : 0;
}
int32_t oc_session_n_seq(const oc_session* session) {
  return session ? session->session->n_seq() : 0;
}
int32_t oc_session_position(const oc_session* session) {
  return session ? session->session->position() : 0;
}
int32_t oc_session_capacity(const oc_session* session) {
  return session ? session->session->capacity() : 0;
}
void oc_session_reset(oc_session* session) {
  if (session) session->session->Reset();
}
uint64_t oc_session_memory_bytes(const oc_session* session) {
  return session ? session->session->memory_bytes() : 0;
}

oc_status oc_session_seq_length(const oc_session* session, int32_t seq, int32_t* n_tokens) {
  return Guard([&] {
    if (!session) return NullArgument("session");
    if (!n_tokens) return NullArgument("n_tokens");
    if (seq < 0 || seq >= session->session->n_seq()) {
      return Fail(OC_ERR_INVALID_ARGUMENT, "sequence " + std::to_string(seq) + " is outside [0, n_seq)");
    }
    *n_tokens = session->session->SeqLength(seq);
    return OC_OK;
  });
}
oc_status oc_session_seq_remove(oc_session* session, int32_t seq) {
  return Guard([&] { return session ? FromStatus(session->session->SeqRemove(seq)) : NullArgument("session"); });
}
oc_status oc_session_seq_truncate(oc_session* session, int32_t seq, int32_t n_tokens) {
  return Guard(
      [&] { return session ? FromStatus(session->session->SeqTruncate(seq, n_tokens)) : NullArgument("session"); });
}
oc_status oc_session_seq_copy(oc_session* session, int32_t src, int32_t dst, int32_t n_tokens) {
  return Guard(
      [&] { return session ? FromStatus(session->session->SeqCopy(src, dst, n_tokens)) : NullArgument("session"); });
}

oc_sampler_params oc_sampler_default_params(void) {
  const SamplerOptions d;
  oc_sampler_params p;
  std::memset(&p, 0, sizeof(p));
  p.temperature = d.temperature;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.repeat_penalty = d.repeat_penalty;
  p.repeat_last_n = d.repeat_last_n;
  p.seed = d.seed;
  return p;
}

oc_status oc_sampler_create(const oc_sampler_params* params, int32_t vocab_size, oc_sampler** out) {
  return Guard([&] {
    if (!out) return NullArgument("out");
    *out = nullptr;
    if (vocab_size < 1) return Fail(OC_ERR_INVALID_ARGUMENT, "vocab_size must be >= 1");
    const oc_sampler_params p = params ? *params : oc_sampler_default_params();
    SamplerOptions o;
    o.temperature = p.temperature;
    o.top_k = p.top_k;
    o.top_p = p.top_p;
    o.min_p = p.min_p;
    o.repeat_penalty = p.repeat_penalty;
    o.repeat_last_n = p.repeat_last_n;
    o.seed = p.seed;
    const Status valid = ValidateSamplerOptions(o);
    if (!valid.ok()) return FromStatus(valid);
    auto handle = std::make_unique<oc_sampler>();
    handle->sampler = std::make_unique<Sampler>(o, vocab_size);
    handle->vocab_size = vocab_size;
    *out = handle.release();
    return OC_OK;
  });
}

void oc_sampler_free(oc_sampler* sampler) {
  delete sampler;
}

oc_status oc_sampler_sample(oc_sampler* sampler, const float* logits, int32_t* token) {
  return Guard([&] {
    if (!sampler) return NullArgument("sampler");
    if (!logits) return NullArgument("logits");
    if (!token) return NullArgument("token");
    *token = sampler->sampler->Sample(logits);
    sampler->sampler->Accept(*token);
    return OC_OK;
  });
}

oc_status oc_sampler_accept(oc_sampler* sampler, int32_t token) {
  return Guard([&] {
    if (!sampler) return NullArgument("sampler");
    if (token < 0 || token >= sampler->vocab_size) {
      return Fail(OC_ERR_INVALID_ARGUMENT, "token " + std::to_string(token) + " is outside the vocabulary");
    }
    sampler->sampler->Accept(token);
    return OC_OK;
  });
}

}  // extern "C"
