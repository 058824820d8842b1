// Model: loading a GGUF file (weights or vocabulary only) and its tokenizer.
#include <algorithm>
#include <cstring>

#include "api/api_impl.h"
#include "base/strings.h"
#include "runtime/expert_pager.h"
#include "runtime/kv_cache.h"

namespace omnicoder {

namespace {

Result<std::vector<std::string>> StringArray(const GgufFile& f, const char* key, bool required) {
  const GgufValue* v = f.Find(key);
  if (!v) {
    if (required) return NotFound(std::string("metadata key '") + key + "' is missing");
    return std::vector<std::string>{};
  }
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString) {
    return CorruptFile(std::string("metadata key '") + key + "' must be an array of strings");
  }
  std::vector<std::string> out;
  out.reserve(v->strings.size());
  for (std::string_view s : v->strings) out.emplace_back(s);
  return out;
}

template <typename T>
Result<std::vector<T>> NumberArray(const GgufFile& f, const char* key, GgufType want) {
  const GgufValue* v = f.Find(key);
  if (!v) return std::vector<T>{};
  if (v->type != GgufType::kArray || v->elem_type != want) {
    return CorruptFile(std::string("metadata key '") + key + "' must be an array of " + GgufTypeName(want));
  }
  std::vector<T> out(v->count);
  if (v->count) std::memcpy(out.data(), v->raw, sizeof(T) * v->count);
  return out;
}

Result<std::optional<int32_t>> OptionalId(const GgufFile& f, const char* key) {
  const GgufValue* v = f.Find(key);
  if (!v) return std::optional<int32_t>{};
  if (v->type == GgufType::kInt32 && v->i64 == -1) return std::optional<int32_t>{-1};
  OC_ASSIGN_OR_RETURN(uint64_t id, f.GetUint(key));
  if (id > INT32_MAX) return CorruptFile(std::string("metadata key '") + key + "' is out of range");
  return std::optional<int32_t>{static_cast<int32_t>(id)};
}

Result<std::optional<bool>> OptionalBool(const GgufFile& f, const char* key) {
  if (!f.Find(key)) return std::optional<bool>{};
  OC_ASSIGN_OR_RETURN(bool b, f.GetBool(key));
  return std::optional<bool>{b};
}

void FillModelInfo(const ModelConfig& c, const ModelWeights& w, ModelInfo* info) {
  info->n_layers = c.n_layers;
  info->dim = c.dim;
  info->ctx_len = c.ctx_len;
  info->n_experts = c.MaxExperts();
  info->n_experts_active = c.MaxExpertsActive();
  info->non_expert_bytes = w.non_expert_bytes;
  info->expert_bytes = w.expert_bytes;
  const uint64_t embd = w.tied_output ? 0 : w.token_embd.bytes();
  const double active = info->n_experts > 0 ? static_cast<double>(info->n_experts_active) / info->n_experts : 1.0;
  info->decode_bytes_per_token =
      w.non_expert_bytes - embd + static_cast<uint64_t>(static_cast<double>(w.expert_bytes) * active);
  for (const LayerSpec& l : c.layers) {
    const uint64_t bytes = l.KvBytesPerPosition(2);  // F16
    if (l.sliding_window > 0) {
      info->kv_window_bytes_per_position += bytes;
      info->sliding_window = std::max(info->sliding_window, l.sliding_window);
    } else {
      info->kv_bytes_per_position += bytes;
    }
  }
}

ModelLoadOptions RuntimeLoadOptions(Engine& engine, const LoadOptions& options) {
  ModelLoadOptions mo;
  mo.check_all_tensors = options.check_tensors;
  mo.use_mmap = options.use_mmap;
  mo.kernels = ApiAccess::Of(engine).kernels;
  mo.paging.mem_budget = options.mem_budget;
  mo.paging.expert_slots = options.expert_slots;
  if (options.mem_budget > 0 || options.expert_slots > 0 || !options.routing_trace.empty()) {
    mo.paging.policy = options.pager_policy;  // validated by Model::Load
    mo.paging.prefetch = options.prefetch;
    mo.paging.routing_trace = options.routing_trace;
    mo.paging.ctx_len = options.planned_ctx_len;
    mo.paging.max_batch = options.planned_batch;
    mo.paging.kv_type = options.planned_kv_type == KvType::kF32 ? DType::kF32 : DType::kF16;
    mo.paging.n_threads = engine.n_threads();
  }
  if (options.progress) {
    auto cb = options.progress;
    mo.progress = [cb](float f) { cb(0.05f + 0.95f * f); };
  }
  return mo;
}

}  // namespace

Result<VocabData> ReadVocabData(const GgufFile& f) {
  VocabData d;
  OC_ASSIGN_OR_RETURN(std::string_view model, f.GetString("tokenizer.ggml.model"));
  d.model = std::string(model);
  if (const GgufValue* pre = f.Find("tokenizer.ggml.pre"); pre && pre->type == GgufType::kString) {
    d.pre = std::string(pre->str);
  }
  if (const GgufValue* n = f.Find("general.name"); n && n->type == GgufType::kString) d.name = std::string(n->str);
  OC_ASSIGN_OR_RETURN(d.tokens, StringArray(f, "tokenizer.ggml.tokens", true));
  OC_ASSIGN_OR_RETURN(d.merges, StringArray(f, "tokenizer.ggml.merges", false));
  OC_ASSIGN_OR_RETURN(d.scores, NumberArray<float>(f, "tokenizer.ggml.scores", GgufType::kFloat32));
  OC_ASSIGN_OR_RETURN(d.types, NumberArray<int32_t>(f, "tokenizer.ggml.token_type", GgufType::kInt32));
  OC_ASSIGN_OR_RETURN(d.bos, OptionalId(f, "tokenizer.ggml.bos_token_id"));
  OC_ASSIGN_OR_RETURN(d.eos, OptionalId(f, "tokenizer.ggml.eos_token_id"));
  OC_ASSIGN_OR_RETURN(d.unk, OptionalId(f, "tokenizer.ggml.unknown_token_id"));
  OC_ASSIGN_OR_RETURN(d.pad, OptionalId(f, "tokenizer.ggml.padding_token_id"));
  OC_ASSIGN_OR_RETURN(d.eot, OptionalId(f, "tokenizer.ggml.eot_token_id"));
  OC_ASSIGN_OR_RETURN(d.add_bos, OptionalBool(f, "tokenizer.ggml.add_bos_token"));
  OC_ASSIGN_OR_RETURN(d.add_eos, OptionalBool(f, "tokenizer.ggml.add_eos_token"));
  OC_ASSIGN_OR_RETURN(d.add_space_prefix, OptionalBool(f, "tokenizer.ggml.add_space_prefix"));
  return d;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

namespace {

// The text of the special token a metadata key names ("" when absent or out of range).
std::string SpecialTokenText(const GgufFile& f, const Tokenizer& tok, const char* key) {
  Result<std::optional<int32_t>> id = OptionalId(f, key);
  if (!id.ok() || !id.value().has_value()) return "";
  const int32_t v = *id.value();
  return v >= 0 && v < tok.vocab_size() ? tok.TokenText(v) : "";
}

// Options are checked whether or not they end up used: a misspelt policy is an error.
Status CheckLoadOptions(const LoadOptions& options) {
  switch (options.pager_policy) {
    case PagerPolicy::kLfu:
    case PagerPolicy::kLru2:
    case PagerPolicy::kLru:
      break;
    case PagerPolicy::kMin:
      return InvalidArgument("pager policy 'min' needs the future: it exists only for replaying traces");
    default:
      return InvalidArgument("unknown pager policy value (lfu, lru2, lru)");
  }
  if (options.planned_kv_type != KvType::kF16 && options.planned_kv_type != KvType::kF32) {
    return InvalidArgument("unknown planned KV cache type value (f16, f32)");
  }
  if (options.expert_slots < 0) return InvalidArgument("--expert-slots must be >= 0");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> Model::Load(Engine& engine, const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  OC_RETURN_IF_ERROR(CheckLoadOptions(options));
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  if (options.progress) options.progress(0.05f);
  auto fail = [&](const Status& s) { return s.WithContext(path); };
  Result<VocabData> vocab = ReadVocabData(*file);
  if (!vocab.ok()) return fail(vocab.status());
  Result<std::unique_ptr<Tokenizer>> tok = Tokenizer::Create(std::move(vocab).value());
  if (!tok.ok()) return fail(tok.status());
  impl->tokenizer = std::move(tok).value();
  ModelInfo& info = impl->info;
  info.path = path;
  info.file_bytes = file->file().size();
  if (const GgufValue* a = file->Find("general.architecture"); a && a->type == GgufType::kString) {
    info.arch = std::string(a->str);
  }
  if (const GgufValue* n = file->Find("general.name"); n && n->type == GgufType::kString)
    info.name = std::string(n->str);
  info.vocab_size = impl->tokenizer->vocab_size();
  if (const GgufValue* t = file->Find("tokenizer.chat_template"); t && t->type == GgufType::kString) {
    info.chat_template = std::string(t->str);
  }
  info.bos_token = SpecialTokenText(*file, *impl->tokenizer, "tokenizer.ggml.bos_token_id");
  info.eos_token = SpecialTokenText(*file, *impl->tokenizer, "tokenizer.ggml.eos_token_id");
  if (options.vocab_only) {
    info.vocab_only = true;
    impl->vocab_file = std::move(file);
    if (options.progress) options.progress(1.0f);
    return std::unique_ptr<Model>(new Model(std::move(impl)));
  }
  const ModelLoadOptions mo = RuntimeLoadOptions(engine, options);
  const GgufFile* raw = file.get();
  Result<std::unique_ptr<LoadedModel>> loaded = LoadModelFromGguf(std::move(file), mo);
  if (!loaded.ok()) return fail(loaded.status());
  impl->loaded = std::move(loaded).value();
  const ModelConfig& c = impl->loaded->config;
  if (c.vocab_size != info.vocab_size) {
    return fail(CorruptFile(
        StrFormat("token_embd has %d rows but the tokenizer has %d tokens", c.vocab_size, info.vocab_size)));
  }
  if (options.use_mmap) {  // ask the kernel to read the mapped weights ahead
    const auto& tensors = raw->tensors();
    for (size_t i = 0; i < tensors.size(); ++i) {
      raw->file().AdviseWillNeed(raw->data_offset() + tensors[i].offset, tensors[i].n_bytes);
    }
  }
  if (options.progress) options.progress(1.0f);
  FillModelInfo(impl->loaded->config, impl->loaded->weights, &info);
  ApiAccess::Of(engine).logger.Info(StrFormat("loaded %s: %s, %d layers, dim %d, vocab %d", path.c_str(),
                                              info.arch.c_str(), c.n_layers, c.dim, c.vocab_size));
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const ModelInfo& Model::info() const {
  return impl_->info;
}

std::vector<int32_t> Model::Tokenize(std::string_view text, bool add_special, bool parse_special) const {
  return impl_->tokenizer->Encode(text, add_special, parse_special);
}

std::string Model::memory_plan() const {
  const LoadedModel* m = impl_->loaded.get();
  return m && m->has_plan ? m->plan.Describe() + KvCache::Describe(m->config) : "";
}

bool Model::pager_stats(PagerStats* out) const {
  const LoadedModel* m = impl_->loaded.get();
  if (!m || !m->pager) return false;
  *out = m->pager->counters();
  return true;
}

Status Model::Close() {
  LoadedModel* m = impl_->loaded.get();
  if (!m || !m->trace) return Status::Ok();
  return m->trace->Finish();
}

Result<uint64_t> ParseMemBudget(const std::string& text) {
  return omnicoder::ParseMemBudgetText(text);
}

std::string Model::TokenToPiece(int32_t id) const {
  return impl_->tokenizer->Piece(id);
}
std::string Model::Detokenize(const std::vector<int32_t>& ids) const {
  return impl_->tokenizer->Decode(ids);
}
bool Model::IsEndOfGeneration(int32_t id) const {
  return impl_->tokenizer->IsEndOfGeneration(id);
}
int32_t Model::bos() const {
  return impl_->tokenizer->bos();
}

}  // namespace omnicoder
