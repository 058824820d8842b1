// OmniCoder public API: Engine (threads, kernels, logging), Model (weights + tokenizer),
// Session (KV cache + position), Sampler. Applications include only this header.
//
// Ownership: an Engine outlives its Models; a Model outlives its Sessions.
// Thread safety: a Model is read-only and shareable; an Engine runs one Session's step
// at a time (its thread pool is shared); Sessions and Samplers are single-threaded.
// Errors: every fallible call returns Status/Result with a message for the user.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omnicoder/status.h"
#include "omnicoder/types.h"

namespace omnicoder {

struct EngineOptions {
  int n_threads = 0;                                         // 0: one per physical core available to the process
  Isa isa = Isa::kAuto;                                      // an ISA the CPU lacks is an error
  std::function<void(LogSeverity, const std::string&)> log;  // default: discard
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();
  int n_threads() const;
  std::string isa() const;           // kernels in use
  std::string cpu_features() const;  // what the CPU offers

  struct Impl;

 private:
  friend struct ApiAccess;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct LoadOptions {
  bool vocab_only = false;     // tokenizer only (vocabulary GGUFs have no weights)
  bool check_tensors = false;  // scan every tensor for NaN/Inf (slower load)
  // false (default): copy weights into huge-page memory (fastest matmuls; the page cache
  // copy is dropped). true: compute from the file mapping (instant load, shares cache).
  bool use_mmap = false;
  std::function<void(float fraction)> progress;

  // Memory budget for the whole process (resident set + page cache it causes); 0 = none,
  // every weight resident. For MoE models the experts that do not fit are paged from
  // disk into a fixed pool (see ParseMemBudget for "1G", "auto", ...).
  uint64_t mem_budget = 0;
  int expert_slots = 0;                          // > 0: page experts through exactly this many slots
  PagerPolicy pager_policy = PagerPolicy::kLfu;  // kLfu (decayed frequency), kLru2, kLru
  bool prefetch = true;                          // predict the next layer's experts and read ahead
  std::string routing_trace;                     // write (token, layer, experts) lines here (MoE)
  // The session the budget must leave room for.
  int planned_ctx_len = 0;  // 0: as SessionOptions::ctx_len = 0
  int planned_batch = 64;
  KvType planned_kv_type = KvType::kF16;
};

// "1G", "1.5G", "800M", "4096"; "auto" = this process's cgroup memory limit, else 90% of
// the available memory.
Result<uint64_t> ParseMemBudget(const std::string& text);

struct ModelInfo {
  std::string path;
  std::string arch;  // general.architecture
  std::string name;  // general.name
  bool vocab_only = false;
  int n_layers = 0;
  int dim = 0;
  int vocab_size = 0;
  int ctx_len = 0;    // trained context
  int n_experts = 0;  // 0 for dense models
  int n_experts_active = 0;
  uint64_t file_bytes = 0;
  uint64_t non_expert_bytes = 0;
  uint64_t expert_bytes = 0;
  // Weight bytes one decode step reads (all but the token-embedding table, the routed
  // experts at their active share) and KV bytes per position (F16) it reads per token of
  // context: full-attention layers, and sliding-window layers (up to `sliding_window`).
  uint64_t decode_bytes_per_token = 0;
  uint64_t kv_bytes_per_position = 0, kv_window_bytes_per_position = 0;
  int sliding_window = 0;
  // tokenizer.chat_template ("" when the file has none) and the texts of the BOS/EOS
  // tokens ("" when the vocabulary has none), as chat templates use them.
  std::string chat_template;
  std::string bos_token, eos_token;
};

class Model {
 public:
  static Result<std::unique_ptr<Model>> Load(Engine& engine, const std::string& path, const LoadOptions& options);
  ~Model();
  const ModelInfo& info() const;

  // Token ids for text; add_special adds BOS/EOS as the model's metadata says.
  // parse_special: text spelling a control token (e.g. "<|im_start|>") becomes it.
  std::vector<int32_t> Tokenize(std::string_view text, bool add_special, bool parse_special = false) const;
  std::string TokenToPiece(int32_t id) const;  // bytes to print (control tokens: "")
  // The pieces of ids concatenated (ids outside the vocabulary print nothing).
  std::string Detokenize(const std::vector<int32_t>& ids) const;
  bool IsEndOfGeneration(int32_t id) const;
  int32_t bos() const;
  // The memory plan made for a budget ("" without one).
  std::string memory_plan() const;
  // Expert pager counters; false when experts are not paged.
  bool pager_stats(PagerStats* out) const;
  // Finishes the model's outputs (the routing trace): the first write error, if any.
  // Call before exiting; the destructor finishes them too but cannot report errors.
  Status Close();

  struct Impl;

 private:
  friend struct ApiAccess;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SessionOptions {
  int ctx_len = 0;  // 0: the model's trained context, capped at 4096; at most
                    // the trained context unless allow_beyond_trained_ctx
  int batch = 64;   // prompt tokens per forward step
  KvType kv_type = KvType::kF16;
  bool allow_beyond_trained_ctx = false;  // ctx_len may exceed the model's trained context
  int n_seq = 1;                          // sequences decoded together: ids [0, n_seq)
  int n_cells = 0;                        // KV positions of all sequences together (0: n_seq * ctx_len)
};

// One token of a multi-sequence batch: its sequence, its position (continuing what the
// sequence holds) and whether its next-token logits are wanted.
struct BatchToken {
  int32_t token = 0;
  int32_t seq = 0;
  int32_t pos = 0;
  bool logits = false;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(Engine& engine, Model& model, const SessionOptions& options);
  ~Session();
  // Appends tokens to sequence 0 and computes the next-token logits.
  // all_logits: keep the logits of every evaluated token (for scoring).
  Status Eval(const std::vector<int32_t>& tokens, bool all_logits = false);
  // Evaluates tokens of several sequences in shared forward steps (experts and weights are
  // read once per step for all of them). Logits(i) is then the i-th token that asked.
  Status Decode(const std::vector<BatchToken>& batch);
  int n_outputs() const;
  int n_seq() const;
  int SeqLength(int seq) const;
  Status SeqRemove(int seq);
  Status SeqTruncate(int seq, int n_tokens);
  // dst becomes the first n_tokens of src, sharing their KV (no recompute, no copy until
  // one of them writes into a shared block).
  Status SeqCopy(int src, int dst, int n_tokens);
  // vocab_size floats: the last row (index < 0) or row `index` of an all_logits Eval;
  // nullptr for a row that was not evaluated.
  const float* Logits(int index = -1) const;
  int vocab_size() const;
  int position() const;
  int capacity() const;
  void Reset();
  uint64_t memory_bytes() const;  // KV cache + scratch

  struct Impl;

 private:
  friend struct ApiAccess;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The valid ranges, with a message naming the option: temperature finite (<= 0 is
// greedy), top_k >= 0, top_p in (0, 1], min_p in [0, 1], repeat_penalty in (0, 100],
// repeat_last_n >= 0.
Status ValidateSamplerOptions(const SamplerOptions& options);

class Sampler {
 public:
  Sampler(const SamplerOptions& options, int vocab_size);
  ~Sampler();
  int32_t Sample(const float* logits);
  void Accept(int32_t token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Human-readable description of a GGUF file: metadata, tensors, memory estimate.
Result<std::string> DescribeModelFile(const std::string& path);

struct QuantizeOptions {
  std::string type;  // "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q5_K", "Q4_1", "Q5_0", "Q5_1", "F16", "BF16", "MXFP4",
                     // or a K-quant mix: "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M" (llama.cpp's tensor types)
  int n_threads = 0;
  bool pure = false;  // every matrix in `type` (otherwise output.weight keeps Q6_K like llama.cpp)
  std::function<void(const std::string&)> progress;
};
Status QuantizeModelFile(const std::string& input, const std::string& output, const QuantizeOptions& options);

// Replays a routing trace (as written by LoadOptions::routing_trace) through `slots`
// expert slots under each policy (kMin = Belady's optimal).
struct PagerSimResult {
  PagerPolicy policy = PagerPolicy::kLru;
  uint64_t accesses = 0, misses = 0, bytes = 0;
};
Result<std::vector<PagerSimResult>> SimulatePagerTrace(const std::string& trace_path, int slots,
                                                       const std::vector<PagerPolicy>& policies, uint64_t expert_bytes);
// Writes the synthetic trace `options` describes (see SyntheticTraceOptions).
Status WriteSyntheticTrace(const std::string& path, const SyntheticTraceOptions& options);

// Perplexity with llama-perplexity's method (chunks of n_ctx, each from an empty context
// with BOS first, the second half scored), plus bits per byte of the scored tokens.
struct PerplexityOptions {
  int n_ctx = 512;
  int n_batch = 2048;
  int n_chunks = 0;  // 0: every whole chunk of the text
  KvType kv_type = KvType::kF16;
  bool allow_beyond_trained_ctx = false;
  std::function<void(int chunk, int n_chunks, double running_ppl)> progress;
};
struct PerplexityResult {
  double ppl = 0, ppl_error = 0, nll = 0, bits_per_byte = 0;
  int n_tokens = 0, n_chunks = 0;
  int64_t count = 0;            // tokens scored
  uint64_t scored_bytes = 0;    // UTF-8 bytes of the scored tokens
  std::vector<double> running;  // perplexity after each chunk
};
Result<PerplexityResult> ComputePerplexity(Engine& engine, Model& model, std::string_view text,
                                           const PerplexityOptions& options);

// A chat template (tokenizer.chat_template: Hugging Face's Jinja dialect) rendered the way
// transformers' apply_chat_template renders it. Messages and tools are JSON as the OpenAI
// API sends them; `extra_json` (a JSON object) adds variables such as enable_thinking.
struct ChatTemplateInput {
  std::string messages_json = "[]";  // "": extra_json holds "messages"
  std::string tools_json;            // "" or a JSON array
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  std::string extra_json;  // "" or a JSON object
  int64_t now = -1;        // strftime_now's time (unix seconds); -1: the clock
};
// Errors: the template's syntax, a value it needs that is missing, or the template's own
// raise_exception (its message). A template never renders partially.
Result<std::string> RenderChatTemplate(std::string_view source, const ChatTemplateInput& input);

std::string Version();

}  // namespace omnicoder
