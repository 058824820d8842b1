// CLI subcommands: each takes a plain options struct filled by main.cc (which alone
// includes CLI11) and returns a process exit code. Errors go to stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnicoder/omnicoder.h"
#include "omnicoder/train.h"

namespace omnicoder::cli {

struct CommonOptions {
  std::string model;
  int threads = 0;
  Isa isa = Isa::kAuto;
  bool verbose = false;
  bool check_tensors = false;
  bool use_mmap = false;
  std::string mem_budget;  // "" = none
  int expert_slots = 0;
  PagerPolicy pager_policy = PagerPolicy::kLfu;
  bool no_prefetch = false;
  bool pager_stats = false;
  std::string routing_trace;
};

struct RunOptions {
  CommonOptions common;
  std::string prompt;
  std::string prompt_file;
  int n_predict = 128;
  int ctx_len = 0;
  int batch = 64;
  KvType kv_type = KvType::kF16;
  SamplerOptions sampling;  // seed set from `seed` at run time
  std::string seed = "-1";  // -1: random; else [0, 2^64 - 1]
  bool ignore_eos = false;
  bool no_bos = false;
  bool allow_long_ctx = false;  // -c beyond the trained context
};
int RunCommand(const RunOptions& o);

struct TokenizeOptions {
  CommonOptions common;
  std::string prompt;
  std::string prompt_file;
  bool has_prompt = false;
  bool no_bos = false;
  bool parse_special = false;
};
int TokenizeCommand(const TokenizeOptions& o);

struct LogitsOptions {
  CommonOptions common;
  std::string tokens;       // "1,2,3"
  std::string tokens_file;  // ids separated by commas or whitespace
  std::string output;
  bool allow_long_ctx = false;
  KvType kv_type = KvType::kF16;
  int batch = 64;
  bool all = false;
};
int LogitsCommand(const LogitsOptions& o);

struct BenchOptions {
  CommonOptions common;
  int n_prompt = 128;
  int n_gen = 32;
  int reps = 3;
  bool json = false;
  int parallel = 1;  // also decode this many sequences together (aggregate tok/s)
  int depth = 0;     // context already held before pp and tg (llama-bench's -d)
};
int BenchCommand(const BenchOptions& o);

int InspectCommand(const std::string& path);

struct PagerSimOptions {
  std::string trace;
  int slots = 0;
  std::string policy = "all";  // lru, lru2, min, all
  std::string expert_bytes = "0";
  // synthetic trace (written to `trace` first when tokens > 0)
  int tokens = 0, layers = 16, experts = 8, k = 2;
  bool synthetic = false;  // --synthetic given
  double zipf = 1.0, stickiness = 0.3;
  uint64_t seed = 1;
};
int PagerSimCommand(const PagerSimOptions& o);

struct QuantizeCliOptions {
  std::string input, output, type;
  int threads = 0;
  bool pure = false;
};
int QuantizeCommand(const QuantizeCliOptions& o);

struct PerplexityCliOptions {
  CommonOptions common;
  std::string file;
  int n_ctx = 512;
  int n_batch = 2048;
  int n_chunks = 0;
  KvType kv_type = KvType::kF16;
  bool allow_long_ctx = false;
};
int PerplexityCommand(const PerplexityCliOptions& o);

struct CorpusCliOptions {
  std::string sources = "train/corpus-sources.txt";
  std::string output = "data/corpus.tsv";
};
int CorpusCommand(const CorpusCliOptions& o);
int TrainTokenizerCommand(const TokenizerTrainOptions& o);
int TokenizeCorpusCommand(TokenizeCorpusOptions o);
int TrainCommand(TrainOptions o);
struct ExportCliOptions {
  std::string config, output, type = "F32";
};
int ExportCommand(const ExportCliOptions& o);

struct EvaluateCliOptions {
  EvaluateOptions eval;
  bool json = false;
};
int EvaluateCommand(EvaluateCliOptions o);

struct ChatTemplateCliOptions {
  std::string template_file;  // a Jinja file, or
  std::string model;          // a GGUF whose tokenizer.chat_template is used
  std::string context_file;   // JSON: [messages] or {"messages", "tools", "add_generation_prompt", ...}
  int64_t now = -1;
};
int ChatTemplateCommand(const ChatTemplateCliOptions& o);

struct ChatCliOptions {
  CommonOptions common;
  SamplerOptions sampling;  // seed from `seed`
  std::string seed = "-1";
  int ctx_len = 0;
  int n_predict = 512;  // per reply
  KvType kv_type = KvType::kF16;
  std::string system;  // a system message first
};
int ChatCommand(const ChatCliOptions& o);

struct ServeOptions {
  CommonOptions common;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed)
  int parallel = 4;
  int ctx_len = 0;  // per slot; 0: the model's trained context, as far as memory allows
  int batch = 256;  // tokens per forward step
  KvType kv_type = KvType::kF16;
  int max_queue = 64;
  std::string api_key;  // "": OMNICODER_API_KEY, else none
  std::vector<std::string> cors_origins;
  std::string alias;  // model name in the API (default: the file name)
  int timeout = 30;
  uint64_t body_limit = 4u << 20;
};
int ServeCommand(const ServeOptions& o);

}  // namespace omnicoder::cli
