// DescribeModelFile: `omnicoder inspect` — metadata, tensors and a memory estimate.
#include <algorithm>
#include <map>
#include <sstream>

#include "api/api_impl.h"
#include "base/strings.h"
#include "model/forward.h"
#include "runtime/kv_cache.h"
#include "runtime/memory_plan.h"

namespace omnicoder {

namespace {

std::string ValueToString(const GgufValue& v) {
  switch (v.type) {
    case GgufType::kString:
      return QuoteForMessage(v.str, 120);
    case GgufType::kFloat32:
    case GgufType::kFloat64:
      return StrFormat("%g", v.f64);
    case GgufType::kBool:
      return v.u64 ? "true" : "false";
    case GgufType::kInt8:
    case GgufType::kInt16:
    case GgufType::kInt32:
    case GgufType::kInt64:
      return std::to_string(v.i64);
    case GgufType::kArray: {
      std::string s = StrFormat("[%s x %llu]", GgufTypeName(v.elem_type), static_cast<unsigned long long>(v.count));
      if (v.elem_type == GgufType::kString && !v.strings.empty()) {
        s += " " + QuoteForMessage(v.strings[0], 24);
        if (v.strings.size() > 1) s += ", " + QuoteForMessage(v.strings[1], 24) + ", ...";
      }
      return s;
    }
    default:
      return std::to_string(v.u64);
  }
}

}  // namespace

Result<std::string> DescribeModelFile(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  std::ostringstream out;
  out << "file: " << path << " (" << HumanBytes(f->file().size()) << ", GGUF v" << f->version() << ", alignment "
      << f->alignment() << ")\n";
  out << "metadata (" << f->metadata().size() << " keys):\n";
  for (const auto& [key, value] : f->metadata()) out << "  " << key << " = " << ValueToString(value) << "\n";
  out << "tensors (" << f->tensors().size() << "):\n";
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (count, bytes)
  for (const GgufTensorInfo& t : f->tensors()) {
    const DTypeTraits* tr = FindDTypeTraits(t.type_id);
    const std::string tn = tr ? tr->name : "?";
    std::string dims;
    for (uint32_t d = 0; d < t.n_dims; ++d) dims += (d ? " x " : "") + std::to_string(t.dims[d]);
    out << StrFormat("  %-40s %-5s [%s] %s\n", t.name.c_str(), tn.c_str(), dims.c_str(), HumanBytes(t.n_bytes).c_str());
    by_type[tn].first++;
    by_type[tn].second += t.n_bytes;
  }
  out << "tensor types:";
  for (const auto& [tn, cb] : by_type) out << " " << tn << " x" << cb.first << " (" << HumanBytes(cb.second) << ")";
  out << "\n";
  Result<ModelConfig> config = ReadModelConfig(*f);
  if (!config.ok()) {
    out << "model: not runnable here (" << config.status().message() << ")\n";
    return out.str();
  }
  const ModelConfig& c = config.value();
  Result<ModelWeights> w = LoadModelWeights(*f, c, WeightLoadOptions{});
  if (!w.ok()) {
    out << "model: tensors do not match the architecture (" << w.status().message() << ")\n";
    return out.str();
  }
  const int ctx = DefaultCtxLen(c.ctx_len);
  out << StrFormat("model: %s, %d layers, dim %d, %d heads (%d kv, head_dim %d), vocab %d, context %d\n",
                   std::string(c.arch->name).c_str(), c.n_layers, c.dim, c.layers[0].n_heads, c.layers[0].n_kv_heads,
                   c.layers[0].head_dim, c.vocab_size, c.ctx_len);
  if (c.HasMoe()) {
    out << StrFormat("moe: %d experts, %d active, expert ffn %d%s\n", c.MaxExperts(), c.MaxExpertsActive(),
                     c.layers.back().expert_ffn_dim, c.layers.back().shared_ffn_dim ? ", shared expert" : "");
  }
  out << KvCache::Describe(c);
  KvOptions kvo;
  kvo.seq_ctx = ctx;
  const uint64_t kv = KvCache::BytesFor(c, kvo);
  const uint64_t scratch = ForwardScratchBytes(c, 64, ctx, 2);
  out << "memory estimate (context " << ctx << ", f16 KV, batch 64):\n";
  out << "  non-expert weights " << HumanBytes(w->non_expert_bytes) << "\n";
  out << "  expert weights     " << HumanBytes(w->expert_bytes) << "\n";
  out << "  KV cache           " << HumanBytes(kv) << "\n";
  out << "  compute scratch    " << HumanBytes(scratch) << "\n";
  out << "  total              " << HumanBytes(w->non_expert_bytes + w->expert_bytes + kv + scratch) << "\n";
  return out.str();
}

}  // namespace omnicoder
