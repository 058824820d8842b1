// KvCache allocation.
#include "runtime/kv_cache.h"

#include "base/strings.h"

namespace omnicoder {

uint64_t KvCache::BytesFor(const ModelConfig& c, int capacity, DType type) {
  const uint64_t elem = type == DType::kF16 ? 2 : 4;
  uint64_t total = 0;
  for (const LayerSpec& l : c.layers) total += 2 * elem * l.n_kv_heads * l.head_dim * static_cast<uint64_t>(capacity);
  return total;
}

Result<std::unique_ptr<KvCache>> KvCache::Create(const ModelConfig& c, int capacity, DType type) {
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
    const size_t row = elem * c.layers[il].n_kv_heads * c.layers[il].head_dim;
    const size_t bytes = row * static_cast<size_t>(capacity);
    if (!kv->k_[il].Allocate(bytes) || !kv->v_[il].Allocate(bytes)) {
      return OutOfMemory("cannot allocate the KV cache (" + HumanBytes(BytesFor(c, capacity, type)) +
                         "); use a smaller context size");
    }
    kv->view_.layers[il] = {kv->k_[il].data(), kv->v_[il].data(), row};
    kv->bytes_ += 2 * bytes;
  }
  return kv;
}

}  // namespace omnicoder
