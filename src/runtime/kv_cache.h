// KvCache: the KV storage of a session's sequences, paged (F16 by default, F32 optional).
//
// Design goals: several sequences decode in one forward step; a sequence can start as a
// copy of another's prefix (a shared system prompt) without recomputing or copying it;
// memory is bounded by what the sequences hold, not by n_seq x context.
//   - Storage per layer is a pool of blocks of kKvBlock positions (rows of KvKDim / KvVDim
//     values). Each sequence maps its positions to blocks through a block table.
//   - Blocks are reference counted: Copy shares the source's blocks; the first write into a
//     shared block copies it first (copy on write), so sequences never see each other's
//     later tokens.
//   - Sliding-window layers use a second pool; blocks wholly outside a sequence's window
//     are released as it advances, so their KV is bounded by the window.
//   - MLA layers cache one latent row per position (no V).
// Non-goals: eviction of sequences, KV quantization (later).
// Thread safety: none; the session drives it between forward steps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "model/forward.h"
#include "model/model_config.h"

namespace omnicoder {

struct KvOptions {
  int n_seq = 1;       // sequence ids [0, n_seq)
  int seq_ctx = 4096;  // positions one sequence can hold
  int n_cells = 0;     // positions the full-attention pool holds in all (0: n_seq * seq_ctx)
  DType type = DType::kF16;
  int max_batch = 64;  // tokens per forward step (sizes the sliding-window pool)
};

class KvCache {
 public:
  static Result<std::unique_ptr<KvCache>> Create(const ModelConfig& config, const KvOptions& options);
  static uint64_t BytesFor(const ModelConfig& config, const KvOptions& options);
  // Lines for inspect and memory plans: KV bytes per token (F16) against what expanded
  // per-head K/V would need (MLA), windowed layers, and totals at 4k and 32k context.
  static std::string Describe(const ModelConfig& config);

  // Room for positions [Length(seq), Length(seq) + n) in one pool (0: full-attention
  // layers, 1: sliding-window layers): allocates blocks and copies a shared last block. On
  // error (pool full, context full) nothing changed. The window pool is reserved one
  // forward step at a time (it holds a window plus a step per sequence).
  Status Reserve(int seq, int n, int pool);
  // Positions up to Length + n now hold computed rows; releases window blocks out of reach.
  void Advance(int seq, int n);
  int Length(int seq) const { return seqs_[seq].len; }
  int n_seq() const { return static_cast<int>(seqs_.size()); }
  int seq_ctx() const { return view_.seq_ctx; }
  void Remove(int seq);
  // Keeps the first len positions (len <= Length). Fails when a sliding-window layer no
  // longer holds the window that position len would need.
  Status Truncate(int seq, int len);
  // dst (emptied first) becomes the first len positions of src, sharing its blocks.
  Status Copy(int src, int dst, int len);

  KvView& view();  // for the forward pass (block table pointers refreshed)
  DType type() const { return view_.type; }
  uint64_t bytes() const { return bytes_; }
  int free_blocks(int pool) const { return static_cast<int>(pools_[pool].free.size()); }

 private:
  struct Pool {
    std::vector<int> layers;          // which layers store in this pool
    std::vector<AlignedBuffer> k, v;  // per entry of `layers`
    std::vector<int32_t> refs;
    std::vector<int32_t> free;  // ascending ids at the back: sequences get consecutive blocks
    int n_blocks = 0;
  };
  struct Seq {
    std::vector<int32_t> table[2];
    int len = 0;
  };
  KvCache() = default;
  int32_t Allocate(Pool& p);
  void Release(Pool& p, int32_t block);
  void CopyBlock(int pool, int32_t from, int32_t to, int rows);
  int NeededBlocks(int pool, const Seq& s, int n) const;
  int WindowStart(int len) const;  // first position a query at `len` may see in the window pool

  std::vector<LayerSpec> specs_;
  Pool pools_[2];
  std::vector<Seq> seqs_;
  int window_ = 0, max_batch_ = 1;
  KvView view_;
  uint64_t bytes_ = 0;
};

}  // namespace omnicoder
