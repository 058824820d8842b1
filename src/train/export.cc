// GGUF export of a training run.
#include "train/export.h"

#include <cstring>
#include <memory>

#include "format/gguf.h"
#include "format/gguf_writer.h"

namespace omnicoder {

namespace {

void SetModelMetadata(const TrainConfig& c, GgufWriter* w) {
  const TrainModelConfig& m = c.model;
  const std::string a = "llama";
  w->SetString("general.architecture", a);
  w->SetString("general.name", c.name);
  w->SetString("general.description",
               "trained by omnicoder train (" + std::string(m.n_experts > 0 ? "MoE" : "dense") + ")");
  w->SetUint32("general.quantization_version", 2);
  w->SetUint32(a + ".context_length", m.ctx_len);
  w->SetUint32(a + ".embedding_length", m.dim);
  w->SetUint32(a + ".block_count", m.n_layers);
  w->SetUint32(a + ".feed_forward_length", m.ffn_dim);
  w->SetUint32(a + ".attention.head_count", m.n_heads);
  w->SetUint32(a + ".attention.head_count_kv", m.n_kv_heads);
  if (m.n_heads * m.head_dim != m.dim) {
    w->SetUint32(a + ".attention.key_length", m.head_dim);
    w->SetUint32(a + ".attention.value_length", m.head_dim);
  }
  w->SetFloat32(a + ".attention.layer_norm_rms_epsilon", m.rms_eps);
  w->SetFloat32(a + ".rope.freq_base", m.rope_base);
  w->SetUint32(a + ".rope.dimension_count", m.head_dim);
  w->SetUint32(a + ".vocab_size", m.vocab_size);
  if (m.n_experts > 0) {
    w->SetUint32(a + ".expert_count", m.n_experts);
    w->SetUint32(a + ".expert_used_count", m.n_experts_active);
  }
}

}  // namespace

Status ExportGguf(const TrainConfig& c, const std::vector<ParamTensor>& layout, const float* params,
                  const GgufFile& tokenizer, DType type, const std::string& path) {
  if (type != DType::kF32 && type != DType::kF16 && type != DType::kBF16) {
    return InvalidArgument("export writes F32, F16 or BF16; quantize the export afterwards");
  }
  GgufWriter w;
  SetModelMetadata(c, &w);
  for (const auto& [key, value] : tokenizer.metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) w.CopyValue(key, value);
  }
  for (const ParamTensor& t : layout) {
    std::vector<int64_t> dims(t.shape.rbegin(), t.shape.rend());  // GGUF: innermost first
    const DType tt = t.shape.size() == 1 ? DType::kF32 : type;
    const float* src = params + t.offset;
    const size_t n = t.size;
    const int64_t cols = dims[0];
    OC_RETURN_IF_ERROR(w.AddTensor(t.name, tt, dims, [src, n, tt, cols](uint8_t* dst, size_t bytes) {
      const DTypeTraits& traits = GetDTypeTraits(tt);
      const size_t row_bytes = RowBytes(tt, cols);
      if (bytes != row_bytes * (n / cols)) return InvalidArgument("export: tensor size mismatch");
      for (size_t r = 0; r < n / cols; ++r) traits.quantize(src + r * cols, dst + r * row_bytes, cols);
      return Status::Ok();
    }));
  }
  return w.WriteFile(path);
}

}  // namespace omnicoder
