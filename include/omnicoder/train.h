// OmniCoder training API: corpus, tokenizer, token shards, the trainer, export.
//
// Pipeline (each step writes files the next one reads; see train/README.md):
//   BuildCorpus (source list -> manifest) -> TrainTokenizer (manifest -> vocabulary GGUF)
//   -> TokenizeCorpus (-> token shards) -> Train (config -> checkpoints) -> ExportModel.
// Every function returns Status/Result with a message a user can act on.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "omnicoder/status.h"
#include "omnicoder/types.h"

namespace omnicoder {

// Walks the sources listed in `sources_file` and writes the corpus manifest.
Result<std::string> BuildCorpus(const std::string& sources_file, const std::string& manifest_out);

struct TokenizerTrainOptions {
  std::string manifest;  // from BuildCorpus
  std::string output;    // vocabulary-only GGUF
  int vocab_size = 8192;
  std::string pre = "qwen2";  // a pre-tokenizer llama.cpp knows (tokenizer.ggml.pre)
  std::string name = "omnicoder-bpe";
};
Result<std::string> TrainTokenizer(const TokenizerTrainOptions& options);

struct TokenizeCorpusOptions {
  std::string manifest;
  std::string tokenizer;
  std::string out_dir;
  double fim_rate = 0.1;
  uint64_t seed = 1;
  int n_threads = 0;
};
Result<std::string> TokenizeCorpus(const TokenizeCorpusOptions& options);

// kBf16: matmul inputs rounded to BF16 on AMX tiles (f32 accumulation and master weights)
// where the CPU has AMX-BF16, else f32; kF32: always f32.
enum class MatmulPrecision { kBf16 = 0, kF32 = 1 };
Result<MatmulPrecision> ParseMatmulPrecision(std::string_view text);  // "bf16", "f32"

struct TrainOptions {
  std::string config;              // "key = value" file (see train/nano.cfg)
  double time_budget_seconds = 0;  // this sitting (resumable); 0: none
  int max_steps = 0;               // stop at this total step count; 0: the config's
  int n_threads = 0;
  Isa isa = Isa::kAuto;
  MatmulPrecision matmul = MatmulPrecision::kBf16;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const std::string&)> progress;
};
struct TrainSummary {
  int step = 0;
  bool finished = false;
  bool resumed = false;
  double elapsed_seconds = 0;
  double last_loss = 0;
};
Result<TrainSummary> Train(const TrainOptions& options);

// Writes the run's latest checkpoint as a llama-architecture GGUF (Mixtral tensor names
// for MoE) with the tokenizer's metadata; F32, F16 or BF16 tensors (quantize afterwards).
Status ExportTrainedModel(const std::string& config, const std::string& output, const std::string& type = "F32");

// Evaluates a run's latest checkpoint (see TrainEvaluation in types.h); read-only, so it
// may run while the trainer does.
struct EvaluateOptions {
  std::string config;
  int n_threads = 0;
  Isa isa = Isa::kAuto;
};
Result<TrainEvaluation> EvaluateTrainedModel(const EvaluateOptions& options);

// SHA-256 of a checkpoint's weights and Adam moments (not its header): equal for equal
// training state.
Result<std::string> CheckpointStateSha256(const std::string& checkpoint);

}  // namespace omnicoder
