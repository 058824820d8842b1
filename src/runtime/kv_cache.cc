// KvCache: pools of KV blocks, block tables, copy on write (see kv_cache.h).
#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"

namespace omnicoder {

namespace {

int DivUp(int a, int b) {
  return (a + b - 1) / b;
}

// Blocks each pool needs: the full pool holds n_cells positions plus one partial block per
// sequence; the window pool what a window plus a batch spans, per sequence.
void PoolBlocks(const ModelConfig& c, const KvOptions& o, int blocks[2]) {
  int window = 0;
  for (const LayerSpec& l : c.layers) window = std::max(window, l.sliding_window);
  const int cells = o.n_cells > 0 ? o.n_cells : o.n_seq * o.seq_ctx;
  blocks[0] = DivUp(cells, kKvBlock) + o.n_seq;
  blocks[1] = window > 0 ? o.n_seq * (DivUp(window + std::max(1, o.max_batch) - 1, kKvBlock) + 2) : 0;
}

size_t ElemBytes(DType t) {
  return t == DType::kF16 ? 2 : 4;
}

}  // namespace

uint64_t KvCache::BytesFor(const ModelConfig& c, const KvOptions& o) {
  int blocks[2];
  PoolBlocks(c, o, blocks);
  uint64_t total = 0;
  for (const LayerSpec& l : c.layers) {
    const int pool = l.sliding_window > 0 ? 1 : 0;
    total += l.KvBytesPerPosition(ElemBytes(o.type)) * blocks[pool] * kKvBlock;
  }
  return total;
}

Result<std::unique_ptr<KvCache>> KvCache::Create(const ModelConfig& c, const KvOptions& o) {
  if (o.type != DType::kF16 && o.type != DType::kF32) return InvalidArgument("KV cache type must be f16 or f32");
  if (o.seq_ctx <= 0 || o.n_seq <= 0 || o.n_seq > 4096) {
    return InvalidArgument("context size and sequence count must be positive (at most 4096 sequences)");
  }
  std::unique_ptr<KvCache> kv(new KvCache());
  int blocks[2];
  PoolBlocks(c, o, blocks);
  kv->specs_ = c.layers;
  kv->max_batch_ = std::max(1, o.max_batch);
  kv->view_.type = o.type;
  kv->view_.seq_ctx = o.seq_ctx;
  kv->view_.layers.resize(c.n_layers);
  kv->seqs_.resize(o.n_seq);
  kv->view_.seqs.resize(o.n_seq);
  const size_t elem = ElemBytes(o.type);
  for (int il = 0; il < c.n_layers; ++il) {
    const LayerSpec& l = c.layers[il];
    const int pool = l.sliding_window > 0 ? 1 : 0;
    kv->window_ = std::max(kv->window_, l.sliding_window);
    Pool& p = kv->pools_[pool];
    const size_t k_row = elem * l.KvKDim(), v_row = elem * l.KvVDim(),
                 rows = static_cast<size_t>(blocks[pool]) * kKvBlock;
    p.layers.push_back(il);
    p.k.emplace_back();
    p.v.emplace_back();
    // Not zero-filled: rows are written before they are read, and untouched pages of a long
    // context cost no memory until used.
    if (!p.k.back().Allocate(k_row * rows, false) || (v_row > 0 && !p.v.back().Allocate(v_row * rows, false))) {
      return OutOfMemory("cannot allocate the KV cache (" + HumanBytes(BytesFor(c, o)) +
                         "); use a smaller context size or fewer sequences");
    }
    KvLayerView& view = kv->view_.layers[il];
    view.k = p.k.back().data();
    view.v = v_row > 0 ? p.v.back().data() : nullptr;
    view.k_row_bytes = k_row;
    view.v_row_bytes = v_row;
    const int heads = l.attention == AttentionKind::kMla ? 1 : l.n_kv_heads;  // MLA: one latent row
    view.k_head_bytes = k_row / heads;
    view.v_head_bytes = v_row / heads;
    view.k_dim_major = l.attention != AttentionKind::kMla;
    view.k_pos_bytes = view.k_dim_major ? elem : view.k_head_bytes;
    view.k_dim_bytes = view.k_dim_major ? elem * kKvBlock : elem;
    view.window = l.sliding_window;
    view.pool = pool;
    kv->bytes_ += (k_row + v_row) * rows;
  }
  for (int pool = 0; pool < 2; ++pool) {
    Pool& p = kv->pools_[pool];
    p.n_blocks = p.layers.empty() ? 0 : blocks[pool];
    p.refs.assign(p.n_blocks, 0);
    for (int b = p.n_blocks - 1; b >= 0; --b) p.free.push_back(b);
  }
  return kv;
}

int32_t KvCache::Allocate(Pool& p) {
  const int32_t b = p.free.back();
  p.free.pop_back();
  p.refs[b] = 1;
  return b;
}

void KvCache::Release(Pool& p, int32_t block) {
  if (block < 0) return;
  if (--p.refs[block] == 0) p.free.push_back(block);
}

// The first `rows` positions of every head (blocks are stored head by head; a dim-major
// K head is copied whole, its rows being interleaved).
void KvCache::CopyBlock(int pool, int32_t from, int32_t to, int rows) {
  Pool& p = pools_[pool];
  const size_t src = static_cast<size_t>(from) * kKvBlock, dst = static_cast<size_t>(to) * kKvBlock;
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const KvLayerView& l = view_.layers[p.layers[i]];
    const size_t k_rows = l.k_dim_major ? kKvBlock : rows;
    for (size_t h = 0; h * l.k_head_bytes < l.k_row_bytes; ++h) {
      std::memcpy(l.KAt(dst, static_cast<int>(h)), l.KAt(src, static_cast<int>(h)), k_rows * l.k_head_bytes);
    }
    for (size_t h = 0; l.v && h * l.v_head_bytes < l.v_row_bytes; ++h) {
      std::memcpy(l.VAt(dst, static_cast<int>(h)), l.VAt(src, static_cast<int>(h)), rows * l.v_head_bytes);
    }
  }
}

int KvCache::NeededBlocks(int pool, const Seq& s, int n) const {
  if (pools_[pool].layers.empty()) return 0;
  const std::vector<int32_t>& t = s.table[pool];
  int need = DivUp(s.len + n, kKvBlock) - static_cast<int>(t.size());
  // Writing into a shared partial last block copies it first.
  if (s.len % kKvBlock != 0 && pools_[pool].refs[t[s.len / kKvBlock]] > 1) ++need;
  return std::max(0, need);
}

int KvCache::WindowStart(int len) const {
  return std::max(0, len - window_ + 1);
}

Status KvCache::Reserve(int seq, int n, int pool) {
  if (seq < 0 || seq >= n_seq()) return InvalidArgument(StrFormat("sequence id %d is outside [0, %d)", seq, n_seq()));
  Seq& s = seqs_[seq];
  if (s.len + n > view_.seq_ctx) {
    return InvalidArgument(
        StrFormat("context is full: %d + %d tokens exceed the context size %d", s.len, n, view_.seq_ctx));
  }
  Pool& p = pools_[pool];
  if (p.layers.empty()) return Status::Ok();
  if (NeededBlocks(pool, s, n) > static_cast<int>(p.free.size())) {
    return OutOfMemory(
        StrFormat("the KV cache is full (%d blocks of %d positions in use); remove or shorten "
                  "sequences, or create the session with more cells",
                  p.n_blocks - static_cast<int>(p.free.size()), kKvBlock));
  }
  std::vector<int32_t>& t = s.table[pool];
  if (s.len % kKvBlock != 0 && p.refs[t[s.len / kKvBlock]] > 1) {
    const int32_t fresh = Allocate(p), old = t[s.len / kKvBlock];
    CopyBlock(pool, old, fresh, s.len % kKvBlock);
    Release(p, old);
    t[s.len / kKvBlock] = fresh;
  }
  while (static_cast<int>(t.size()) < DivUp(s.len + n, kKvBlock)) t.push_back(Allocate(p));
  return Status::Ok();
}

void KvCache::Advance(int seq, int n) {
  Seq& s = seqs_[seq];
  s.len += n;
  if (pools_[1].layers.empty()) return;
  // Blocks whose last position is before the window of any later query are released.
  std::vector<int32_t>& t = s.table[1];
  const int keep_from = WindowStart(s.len) / kKvBlock;
  for (int b = 0; b < keep_from && b < static_cast<int>(t.size()); ++b) {
    Release(pools_[1], t[b]);
    t[b] = -1;
  }
}

void KvCache::Remove(int seq) {
  Seq& s = seqs_[seq];
  for (int pool = 0; pool < 2; ++pool) {
    for (int32_t b : s.table[pool]) Release(pools_[pool], b);
    s.table[pool].clear();
  }
  s.len = 0;
}

Status KvCache::Truncate(int seq, int len) {
  Seq& s = seqs_[seq];
  if (len < 0 || len > s.len) return InvalidArgument(StrFormat("cannot truncate a sequence of %d to %d", s.len, len));
  if (len == 0) {
    Remove(seq);
    return Status::Ok();
  }
  const std::vector<int32_t>& w = s.table[1];
  if (!w.empty() && w[WindowStart(len) / kKvBlock] < 0) {
    int first = 0;
    while (first < static_cast<int>(w.size()) && w[first] < 0) ++first;
    return InvalidArgument(
        StrFormat("the sliding-window layers released the positions a length of %d would need; "
                  "the shortest length this sequence can be truncated to is %d",
                  len, first * kKvBlock + window_ - 1));
  }
  for (int pool = 0; pool < 2; ++pool) {
    std::vector<int32_t>& t = s.table[pool];
    while (static_cast<int>(t.size()) > DivUp(len, kKvBlock)) {
      Release(pools_[pool], t.back());
      t.pop_back();
    }
  }
  s.len = len;
  return Status::Ok();
}

Status KvCache::Copy(int src, int dst, int len) {
  if (src < 0 || src >= n_seq() || dst < 0 || dst >= n_seq()) return InvalidArgument("sequence id out of range");
  if (src == dst) return Truncate(src, len);
  const Seq& s = seqs_[src];
  if (len < 0 || len > s.len) return InvalidArgument(StrFormat("sequence %d holds %d tokens, not %d", src, s.len, len));
  if (!s.table[1].empty() && len > 0 && s.table[1][WindowStart(len) / kKvBlock] < 0) {
    return InvalidArgument("the sliding-window layers no longer hold that prefix; copy a longer one");
  }
  Remove(dst);
  Seq& d = seqs_[dst];
  for (int pool = 0; pool < 2; ++pool) {
    for (int b = 0; b < DivUp(len, kKvBlock) && b < static_cast<int>(s.table[pool].size()); ++b) {
      const int32_t id = s.table[pool][b];
      if (id >= 0) ++pools_[pool].refs[id];
      d.table[pool].push_back(id);
    }
  }
  d.len = len;
  return Status::Ok();
}

KvView& KvCache::view() {
  for (size_t i = 0; i < seqs_.size(); ++i) {
    for (int pool = 0; pool < 2; ++pool) view_.seqs[i].table[pool] = seqs_[i].table[pool].data();
  }
  return view_;
}

std::string KvCache::Describe(const ModelConfig& c) {
  uint64_t per_token = 0, expanded = 0;
  int mla = 0, windowed = 0, window = 0;
  for (const LayerSpec& l : c.layers) {
    per_token += l.KvBytesPerPosition(2);
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
    KvOptions o;
    o.seq_ctx = ctx;
    s += StrFormat("KV at %dk context (f16, batch 64): %s", ctx / 1024, HumanBytes(BytesFor(c, o)).c_str());
    if (mla > 0) s += StrFormat(" (expanded: %s)", HumanBytes(expanded * static_cast<uint64_t>(ctx)).c_str());
    s += "\n";
  }
  return s;
}

}  // namespace omnicoder
