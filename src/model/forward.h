// The forward pass: one loop over the layers of a ModelConfig, for a batch of tokens.
//
// Data flow for one step (T tokens at positions pos..pos+T-1):
//   x[T,dim] = embed(tokens)
//   per layer: x += Attention(RmsNorm(x)); x += Ffn-or-Moe(RmsNorm(x))
//   logits = Output(RmsNorm(x[last]))           (or every row when all_logits)
// Every buffer lives in ForwardScratch, sized once per session: no allocation here.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "kernels/kernel_table.h"
#include "model/expert_source.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace omnicoder {

class ThreadPool;
struct LinearTrace;

struct ForwardContext {
  const KernelTable* kernels = nullptr;
  ThreadPool* pool = nullptr;
  LinearTrace* trace = nullptr;  // set by Forward: the step's record of its matmuls
};

// The KV cache as the forward pass sees it: per layer, a pool of blocks of kKvBlock
// positions; each sequence has a block table per pool (full-attention layers; sliding-
// window layers, whose old blocks are dropped). Position p of sequence s in layer l lives
// in row table[p / kKvBlock] * kKvBlock + p % kKvBlock of l's storage.
// Within a block the rows are stored head by head: head h's kKvBlock slices (head_dim
// values each) are contiguous, so attention over one KV head streams whole cache lines.
// K of GQA layers is dim-major within a head's block (k_dim_major): dim d of the block's
// kKvBlock positions contiguous, so scores are lanes of positions with no reduction
// across lanes (attn_scores_kt). MLA's latent rows stay row-major (they are V too).
constexpr int kKvBlock = 64;
struct KvLayerView {
  uint8_t* k = nullptr;
  uint8_t* v = nullptr;    // nullptr for MLA (V is the latent part of each K row)
  size_t k_row_bytes = 0;  // KvKDim * element size (one position, all heads)
  size_t v_row_bytes = 0;
  size_t k_head_bytes = 0;  // one head's slice of a row (MLA: the whole row)
  size_t v_head_bytes = 0;
  bool k_dim_major = false;
  size_t k_pos_bytes = 0;  // between positions of a head's K in a block (row-major: k_head_bytes)
  size_t k_dim_bytes = 0;  // between dims of a position's K (row-major: the element size)
  int window = 0;          // > 0: attend the last `window` positions only
  int pool = 0;            // 0: full-attention pool, 1: sliding-window pool
  // Head h's slice of row `row` (dim 0 of it); positions of one block are pos_bytes apart.
  static uint8_t* At(uint8_t* base, size_t row_bytes, size_t head_bytes, size_t pos_bytes, size_t row, int h) {
    return base + row / kKvBlock * kKvBlock * row_bytes + h * kKvBlock * head_bytes + row % kKvBlock * pos_bytes;
  }
  uint8_t* KAt(size_t row, int h) const { return At(k, k_row_bytes, k_head_bytes, k_pos_bytes, row, h); }
  uint8_t* VAt(size_t row, int h) const { return At(v, v_row_bytes, v_head_bytes, v_head_bytes, row, h); }
};
struct KvSeqView {
  const int32_t* table[2] = {nullptr, nullptr};  // block ids per pool (-1: dropped)
};
struct KvView {
  DType type = DType::kF16;  // kF16 or kF32
  int seq_ctx = 0;           // positions one sequence can hold
  std::vector<KvLayerView> layers;
  std::vector<KvSeqView> seqs;
  size_t Row(const KvLayerView& l, int seq, int pos) const {
    return static_cast<size_t>(seqs[seq].table[l.pool][pos / kKvBlock]) * kKvBlock + pos % kKvBlock;
  }
};

// One matrix of a linear region: y[t * y_stride + r] = W[r] . act_t (see blocks/linear.h).
struct LinearJob {
  const WeightMatrix* w = nullptr;
  const uint8_t* act = nullptr;  // n_tokens act rows, act_row_bytes apart
  size_t act_row_bytes = 0;
  int n_tokens = 1;
  float* y = nullptr;
  size_t y_stride = 0;
};

// The matmuls of the last two decode steps (RunLinear calls with few tokens), so that
// the pool's idle workers can prefetch their share of the next one (blocks/linear.cc).
// Call k of a step reads the same matrices as call k of the step before in dense layers;
// a MoE layer's experts change, and a call whose matrices changed is not predicted.
struct LinearTrace {
  // Steps of at most this many tokens are memory-bound and traced (decode, a few
  // sequences, draft verification); longer ones leave the trace as it was.
  static constexpr int kMaxTokens = 16;
  struct Call {
    uint64_t key = 0;     // the call's matrices (their addresses, mixed)
    bool stable = false;  // the same key as call k of the step before
  };
  struct Share {
    const uint8_t* p = nullptr;  // the start of a worker's share of the call's weights
    size_t bytes = 0;
  };
  std::vector<Call> calls;    // [capacity], fixed when the scratch is made
  std::vector<Share> shares;  // [capacity * n_threads]
  int n = 0;                  // calls recorded in this step
  int prev_n = 0;             // ... in the step before
};

struct MoeScratch {
  AlignedBuffer router_logits;       // [T, n_experts] f32
  AlignedBuffer probs;               // [n_experts] f32
  AlignedBuffer sel_experts;         // [T, k] int32
  AlignedBuffer sel_weights;         // [T, k] f32
  AlignedBuffer expert_offsets;      // [n_experts + 1] int32 (prefix sums of rows per expert)
  AlignedBuffer expert_fill;         // [n_experts] int32
  AlignedBuffer wave_ids;            // [n_experts] int32: the routed experts of the current wave
  AlignedBuffer rows;                // [T*k] int32: slot (t*k + j) of each expert-ordered row
  AlignedBuffer row_of_slot;         // [T*k] int32: inverse of rows
  AlignedBuffer act_gate;            // [T*k] act rows of the input, in the gate format
  AlignedBuffer act_up;              // same, when the up format differs
  AlignedBuffer hidden_gate;         // [T*k, expert_ffn] f32
  AlignedBuffer hidden_up;           // [T*k, expert_ffn] f32
  AlignedBuffer act_hidden;          // [T*k] act rows of the hidden
  AlignedBuffer expert_out;          // [T*k, dim] f32, expert-ordered rows
  AlignedBuffer shared_out;          // [T, dim] f32
  AlignedBuffer pred_x;              // [dim] next-layer prediction: normed hidden state
  AlignedBuffer pred_act;            // act row of pred_x
  AlignedBuffer pred_logits;         // [n_experts]
  AlignedBuffer pred_ids;            // [k] int32
  AlignedBuffer pred_weights;        // [k]
  std::vector<FfnWeights> acquired;  // [n_experts]
  std::vector<LinearJob> jobs;       // [2 * n_experts]
};

struct ForwardScratch {
  int max_tokens = 0;
  int capacity = 0;  // positions one sequence can hold (scores rows)
  int n_threads = 0;
  size_t act_row_bytes = 0;  // largest act row for dim-sized inputs
  size_t act_ffn_row_bytes = 0;
  AlignedBuffer x, xn, q, k, v, attn_out, proj;  // [T, *] f32
  AlignedBuffer h1, h3;                          // [T, ffn] f32
  AlignedBuffer act_a, act_b, act_h;             // act rows
  AlignedBuffer scores;                          // per thread: AttendScratchFloats(capacity) f32
  // MLA: per-head absorbed queries and latent outputs, and their act rows
  AlignedBuffer mla_q;               // [T, n_heads, kv_lora_rank + qk_rope_dim]
  AlignedBuffer mla_lat;             // [T, n_heads, kv_lora_rank]
  AlignedBuffer mla_act;             // act rows of per-head inputs
  AlignedBuffer mla_tmp;             // [T, q_lora_rank] q before its up-projection
  std::vector<LinearJob> head_jobs;  // [max heads] one job per head
  AlignedBuffer rope;                // [T, rope_dims] cos/sin pairs
  AlignedBuffer seq_ids;             // [T] int32 sequence of each token
  MoeScratch moe;
  LinearTrace trace;
};

Result<std::unique_ptr<ForwardScratch>> CreateForwardScratch(const ModelConfig& config, int max_tokens, int capacity,
                                                             int n_threads);
// Bytes CreateForwardScratch would allocate (for memory plans).
uint64_t ForwardScratchBytes(const ModelConfig& config, int max_tokens, int capacity, int n_threads);

// One forward step over tokens of one or more sequences. Each token carries its sequence
// and position; a sequence's tokens in a step have consecutive positions following what
// its KV already holds (KvCache::Reserve made room). Logits are computed for the tokens
// listed in out_rows (ascending indices), in that order.
struct ForwardRequest {
  const int32_t* tokens = nullptr;
  int n_tokens = 0;              // <= scratch.max_tokens
  const int32_t* seq = nullptr;  // [n_tokens]; nullptr: all in sequence 0
  const int32_t* pos = nullptr;  // [n_tokens]
  const int32_t* out_rows = nullptr;
  int n_out = 0;
  float* logits = nullptr;  // [n_out, vocab]; nullptr or n_out == 0: skip the output layer
};

struct ModelRef {
  const ModelConfig* config;
  const ModelWeights* weights;
  ExpertSource* experts;
};

Status Forward(const ForwardContext& ctx, const ModelRef& model, KvView& kv, ForwardScratch& scratch,
               const ForwardRequest& request);

}  // namespace omnicoder
