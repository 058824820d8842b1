// KvCache allocation.
#include "runtime/kv_cache.h"

#include <algorithm>

#include "base/strings.h"

namespace omnicoder {

int KvCache::RowsFor(const LayerSpec& l, int capacity, int max_batch) {
  if (l.sliding_window <= 0) return capacity;
  return std::min(capacity, l.sliding_window + std::max(1, max_batch) - 1);
}

uint64_t KvCache::BytesFor(const ModelConfig& c, int capacity, DType type, int max_batch) {
  const uint64_t elem = type == DType::kF16 ? 2 : 4;
  uint64_t total = 0;
  for (const LayerSpec& l : c.layers) {
    total += elem * static_cast<uint64_t>(l.KvKDim() + l.KvVDim()) * RowsFor(l, capacity, max_batch);
  }
  return total;
}

Result<std::unique_ptr<KvCache>> KvCache::Create(const ModelConfig& c, int capacity, DType type, int max_batch) {
  if (type != DType::kF16 && type != DType::kF32) return InvalidArgument("KV cache type must be f16 or f32");
  if (capacity <= 0) return InvalidArgument("context size must be positive");
  std::unique_ptr<KvCache> kv(new KvCache());
  const size_t elem = type == DType::kF16 ? 2 : 4;
  kv->view_.type = type;
  kv->view_.capacity = capacity;
  kv->k_.resize(c.n_layers);
  kv->v_.resize(c.n_layers);
  kv->view_.layers.resize(c.n_layers);
  for (int il = 0; il < c.n_layers; ++il) {
    const LayerSpec& l = c.layers[il];
    const int rows = RowsFor(l, capacity, max_batch);
    const size_t k_row = elem * l.KvKDim(), v_row = elem * l.KvVDim();
    if (!kv->k_[il].Allocate(k_row * rows) || (v_row > 0 && !kv->v_[il].Allocate(v_row * rows))) {
      return OutOfMemory("cannot allocate the KV cache (" + HumanBytes(BytesFor(c, capacity, type, max_batch)) +
                         "); use a smaller context size");
    }
    KvLayerView& view = kv->view_.layers[il];
    view.k = kv->k_[il].data();
    view.v = v_row > 0 ? kv->v_[il].data() : nullptr;
    view.k_row_bytes = k_row;
    view.v_row_bytes = v_row;
    view.rows = rows;
    view.window = l.sliding_window;
    kv->bytes_ += (k_row + v_row) * rows;
  }
  return kv;
}

std::string KvCache::Describe(const ModelConfig& c) {
  uint64_t per_token = 0, expanded = 0;
  int mla = 0, windowed = 0, window = 0;
  for (const LayerSpec& l : c.layers) {
    per_token += 2ull * (l.KvKDim() + l.KvVDim());
    expanded += 2ull * l.n_heads * (l.head_dim + l.v_head_dim);
    mla += l.attention == AttentionKind::kMla;
    if (l.sliding_window > 0) ++windowed, window = l.sliding_window;
  }
  std::string s;
  if (mla > 0) {
    const LayerSpec& l = c.layers[0];
    s += StrFormat("attention: MLA on %d layers: %d latent + %d RoPE dims cached per token, shared by %d heads%s\n",
                   mla, l.kv_lora_rank, l.qk_rope_dim, l.n_heads,
                   l.q_lora_rank > 0 ? StrFormat(" (q LoRA rank %d)", l.q_lora_rank).c_str() : "");
    s += StrFormat("KV per token (f16): %s; expanded per-head K/V would need %s (%.1fx more)\n",
                   HumanBytes(per_token).c_str(), HumanBytes(expanded).c_str(),
                   static_cast<double>(expanded) / static_cast<double>(per_token));
  } else {
    s += StrFormat("KV per token (f16): %s\n", HumanBytes(per_token).c_str());
  }
  if (windowed > 0) {
    s += StrFormat("sliding window of %d positions on %d of %d layers: their KV is bounded by the window\n", window,
                   windowed, c.n_layers);
  }
  for (int ctx : {4096, 32768}) {
    s += StrFormat("KV at %dk context (f16, batch 64): %s", ctx / 1024, HumanBytes(BytesFor(c, ctx, DType::kF16, 64)).c_str());
    if (mla > 0) s += StrFormat(" (expanded: %s)", HumanBytes(expanded * static_cast<uint64_t>(ctx)).c_str());
    s += "\n";
  }
  return s;
}

}  // namespace omnicoder
