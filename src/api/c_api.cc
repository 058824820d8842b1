// C API: errors, engine, model and tokenizer (see include/omnicoder/omnicoder_c.h).
#include <cstring>

#include "api/c_api_internal.h"

namespace omnicoder::capi {

namespace {
thread_local std::string t_last_error;
}  // namespace

oc_status Fail(oc_status code, const std::string& message) {
  t_last_error = message;
  return code;
}

oc_status FromStatus(const Status& s) {
  if (s.ok()) return OC_OK;
  oc_status code = OC_ERR_INTERNAL;
  switch (s.code()) {
    case StatusCode::kOk:
      return OC_OK;
    case StatusCode::kInvalidArgument:
      code = OC_ERR_INVALID_ARGUMENT;
      break;
    case StatusCode::kNotFound:
      code = OC_ERR_NOT_FOUND;
      break;
    case StatusCode::kIoError:
      code = OC_ERR_IO;
      break;
    case StatusCode::kCorruptFile:
      code = OC_ERR_CORRUPT_FILE;
      break;
    case StatusCode::kUnsupported:
      code = OC_ERR_UNSUPPORTED;
      break;
    case StatusCode::kOutOfMemory:
      code = OC_ERR_OUT_OF_MEMORY;
      break;
    case StatusCode::kInternal:
      code = OC_ERR_INTERNAL;
      break;
  }
  return Fail(code, s.message());
}

oc_status NullArgument(const char* what) {
  return Fail(OC_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
}

oc_status CopyOut(const std::string& bytes, bool nul, char* buf, size_t* len) {
  if (!len) return NullArgument("len");
  const size_t need = bytes.size() + (nul ? 1 : 0);
  const size_t capacity = buf ? *len : 0;
  *len = need;
  if (need > capacity) {
    return Fail(OC_ERR_BUFFER_TOO_SMALL, "the output needs " + std::to_string(need) + " bytes");
  }
  if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
  if (nul) buf[bytes.size()] = '\0';
  return OC_OK;
}

}  // namespace omnicoder::capi

using namespace omnicoder;
using omnicoder::capi::FromStatus;
using omnicoder::capi::Guard;
using omnicoder::capi::NullArgument;

namespace {
oc_status GetInfo(const oc_model* model, oc_model_info* out);
oc_status GetPagerStats(const oc_model* model, oc_pager_stats* out);
}  // namespace

extern "C" {

const char* oc_last_error(void) {
  return omnicoder::capi::t_last_error.c_str();
}

const char* oc_status_name(oc_status status) {
  switch (status) {
    case OC_OK:
      return "ok";
    case OC_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case OC_ERR_NOT_FOUND:
      return "not found";
    case OC_ERR_IO:
      return "I/O error";
    case OC_ERR_CORRUPT_FILE:
      return "corrupt file";
    case OC_ERR_UNSUPPORTED:
      return "unsupported";
    case OC_ERR_OUT_OF_MEMORY:
      return "out of memory";
    case OC_ERR_INTERNAL:
      return "internal error";
    case OC_ERR_BUFFER_TOO_SMALL:
      return "buffer too small";
  }
  return "unknown status";
}

const char* oc_version(void) {
  static const std::string v = Version();
  return v.c_str();
}
int32_t oc_abi_version(void) {
  return OC_ABI_VERSION;
}

oc_engine_params oc_engine_default_params(void) {
  oc_engine_params p;
  std::memset(&p, 0, sizeof(p));
  p.isa = OC_ISA_AUTO;
  return p;
}

oc_status oc_engine_create(const oc_engine_params* params, oc_engine** out) {
  return Guard([&] {
    if (!out) return NullArgument("out");
    *out = nullptr;
    const oc_engine_params p = params ? *params : oc_engine_default_params();
    const int32_t isa = capi::RawEnum(p.isa);
    if (isa < OC_ISA_AUTO || isa > OC_ISA_AMX) {
      return capi::Fail(OC_ERR_INVALID_ARGUMENT, "isa is not an oc_isa value");
    }
    EngineOptions o;
    o.n_threads = p.n_threads;
    o.isa = static_cast<Isa>(isa);
    if (p.log) {
      oc_log_fn fn = p.log;
      void* user = p.log_user;
      o.log = [fn, user](LogSeverity s, const std::string& line) {
        fn(static_cast<oc_log_severity>(s), line.c_str(), user);
      };
    }
    Result<std::unique_ptr<Engine>> e = Engine::Create(o);
    if (!e.ok()) return FromStatus(e.status());
    auto handle = std::make_unique<oc_engine>();
    handle->engine = std::move(e).value();
    handle->isa = handle->engine->isa();
    *out = handle.release();
    return OC_OK;
  });
}

void oc_engine_free(oc_engine* engine) {
  delete engine;
}
int32_t oc_engine_n_threads(const oc_engine* engine) {
  return engine ? engine->engine->n_threads() : 0;
}
const char* oc_engine_isa(const oc_engine* engine) {
  return engine ? engine->isa.c_str() : "";
}

oc_model_params oc_model_default_params(void) {
  const LoadOptions d;
  oc_model_params p;
  std::memset(&p, 0, sizeof(p));
  p.prefetch = d.prefetch;
  p.pager_policy = OC_PAGER_LFU;
  p.planned_ctx_len = d.planned_ctx_len;
  p.planned_batch = d.planned_batch;
  p.planned_kv_type = OC_KV_F16;
  return p;
}

oc_status oc_parse_mem_budget(const char* text, uint64_t* bytes) {
  return Guard([&] {
    if (!text) return NullArgument("text");
    if (!bytes) return NullArgument("bytes");
    Result<uint64_t> r = ParseMemBudget(text);
    if (!r.ok()) return FromStatus(r.status());
    *bytes = r.value();
    return OC_OK;
  });
}

oc_status oc_model_load(oc_engine* engine, const char* path, const oc_model_params* params, oc_model** out) {
  return Guard([&] {
    if (!out) return NullArgument("out");
    *out = nullptr;
    if (!engine) return NullArgument("engine");
    if (!path) return NullArgument("path");
    const oc_model_params p = params ? *params : oc_model_default_params();
    const int32_t policy = capi::RawEnum(p.pager_policy);
    if (policy < OC_PAGER_LFU || policy > OC_PAGER_LRU) {
      return capi::Fail(OC_ERR_INVALID_ARGUMENT, "pager_policy is not an oc_pager_policy value");
    }
    LoadOptions o;
    o.vocab_only = p.vocab_only != 0;
    o.check_tensors = p.check_tensors != 0;
    o.use_mmap = p.use_mmap != 0;
    o.prefetch = p.prefetch != 0;
    o.mem_budget = p.mem_budget;
    o.expert_slots = p.expert_slots;
    o.pager_policy = static_cast<PagerPolicy>(policy);  // same values
    if (p.routing_trace) o.routing_trace = p.routing_trace;
    o.planned_ctx_len = p.planned_ctx_len;
    o.planned_batch = p.planned_batch;
    o.planned_kv_type = static_cast<KvType>(capi::RawEnum(p.planned_kv_type));  // checked by Model::Load
    if (p.progress) {
      oc_progress_fn fn = p.progress;
      void* user = p.progress_user;
      o.progress = [fn, user](float f) { fn(f, user); };
    }
    Result<std::unique_ptr<Model>> m = Model::Load(*engine->engine, path, o);
    if (!m.ok()) return FromStatus(m.status());
    auto handle = std::make_unique<oc_model>();
    handle->model = std::move(m).value();
    *out = handle.release();
    return OC_OK;
  });
}

oc_status oc_model_close(oc_model* model) {
  return Guard([&] { return model ? FromStatus(model->model->Close()) : NullArgument("model"); });
}

void oc_model_free(oc_model* model) {
  delete model;
}

oc_status oc_model_get_info(const oc_model* model, oc_model_info* out) {
  return Guard([&] { return GetInfo(model, out); });
}

}  // extern "C"

namespace {

oc_status GetInfo(const oc_model* model, oc_model_info* out) {
  if (!model) return NullArgument("model");
  if (!out) return NullArgument("out");
  const ModelInfo& i = model->model->info();
  std::memset(out, 0, sizeof(*out));
  out->arch = i.arch.c_str();
  out->name = i.name.c_str();
  out->n_layers = i.n_layers;
  out->dim = i.dim;
  out->vocab_size = i.vocab_size;
  out->ctx_len = i.ctx_len;
  out->n_experts = i.n_experts;
  out->n_experts_active = i.n_experts_active;
  out->vocab_only = i.vocab_only;
  out->file_bytes = i.file_bytes;
  out->non_expert_bytes = i.non_expert_bytes;
  out->expert_bytes = i.expert_bytes;
  return OC_OK;
}

}  // namespace

extern "C" {

oc_status oc_tokenize(const oc_model* model, const char* text, size_t text_len, uint32_t flags, int32_t* tokens,
                      size_t* n_tokens) {
  return Guard([&] {
    if (!model) return NullArgument("model");
    if (!text && text_len > 0) return NullArgument("text");
    if (!n_tokens) return NullArgument("n_tokens");
    if (flags & ~(OC_TOKENIZE_ADD_SPECIAL | OC_TOKENIZE_PARSE_SPECIAL)) {
      return capi::Fail(OC_ERR_INVALID_ARGUMENT, "unknown tokenize flags");
    }
    const std::vector<int32_t> ids =
        model->model->Tokenize(std::string_view(text ? text : "", text_len), flags & OC_TOKENIZE_ADD_SPECIAL,
                               flags & OC_TOKENIZE_PARSE_SPECIAL);
    const size_t capacity = tokens ? *n_tokens : 0;
    *n_tokens = ids.size();
    if (ids.size() > capacity) {
      return capi::Fail(OC_ERR_BUFFER_TOO_SMALL, "the text has " + std::to_string(ids.size()) + " tokens");
    }
    if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * sizeof(int32_t));
    return OC_OK;
  });
}

oc_status oc_token_to_piece(const oc_model* model, int32_t token, char* buf, size_t* len) {
  return Guard([&] {
    if (!model) return NullArgument("model");
    if (token < 0 || token >= model->model->info().vocab_size) {
      return capi::Fail(OC_ERR_INVALID_ARGUMENT, "token " + std::to_string(token) + " is outside the vocabulary");
    }
    return capi::CopyOut(model->model->TokenToPiece(token), false, buf, len);
  });
}

oc_status oc_detokenize(const oc_model* model, const int32_t* tokens, size_t n_tokens, char* buf, size_t* len) {
  return Guard([&] {
    if (!model) return NullArgument("model");
    if (!tokens && n_tokens > 0) return NullArgument("tokens");
    const int32_t vocab = model->model->info().vocab_size;
    for (size_t i = 0; i < n_tokens; ++i) {
      if (tokens[i] < 0 || tokens[i] >= vocab) {
        return capi::Fail(OC_ERR_INVALID_ARGUMENT, "token " + std::to_string(tokens[i]) + " at index " +
                                                       std::to_string(i) + " is outside the vocabulary");
      }
    }
    return capi::CopyOut(model->model->Detokenize(std::vector<int32_t>(tokens, tokens + n_tokens)), true, buf, len);
  });
}

int32_t oc_model_bos(const oc_model* model) {
  return model ? model->model->bos() : -1;
}
int32_t oc_model_is_end_of_generation(const oc_model* model, int32_t token) {
  return model && model->model->IsEndOfGeneration(token) ? 1 : 0;
}

oc_status oc_model_memory_plan(const oc_model* model, char* buf, size_t* len) {
  return Guard(
      [&] { return model ? capi::CopyOut(model->model->memory_plan(), true, buf, len) : NullArgument("model"); });
}

oc_status oc_model_pager_stats(const oc_model* model, oc_pager_stats* out) {
  return Guard([&] { return GetPagerStats(model, out); });
}

}  // extern "C"

namespace {

oc_status GetPagerStats(const oc_model* model, oc_pager_stats* out) {
  if (!model) return NullArgument("model");
  if (!out) return NullArgument("out");
  std::memset(out, 0, sizeof(*out));
  PagerStats s;
  if (!model->model->pager_stats(&s)) return OC_OK;
  out->paged = 1;
  out->acquires = s.acquires, out->hits = s.hits, out->misses = s.misses;
  out->prefetch_issued = s.prefetch_issued, out->prefetch_hits = s.prefetch_hits;
  out->prefetch_wasted = s.prefetch_wasted, out->bytes_read = s.bytes_read;
  out->read_seconds = s.read_seconds, out->stall_seconds = s.stall_seconds;
  out->predicted = s.predicted, out->predicted_used = s.predicted_used, out->routed = s.routed;
  out->decode_tokens = s.decode_tokens, out->slots = s.slots, out->total_experts = s.total_experts;
  return OC_OK;
}

}  // namespace
