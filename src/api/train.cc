// Public training API: glue from files and options to the train layer.
#include "omnicoder/train.h"

#include <map>
#include <memory>
#include <vector>

#include "api/api_impl.h"
#include "base/aligned_buffer.h"
#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "format/gguf_writer.h"
#include "tokenizer/bpe_train.h"
#include "train/checkpoint.h"
#include "train/corpus.h"
#include "train/evaluate.h"
#include "train/export.h"
#include "train/shards.h"
#include "train/trainer.h"

namespace omnicoder {

namespace {

constexpr const char* kSpecialTokens[] = {"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                          "<|fim_pad|>"};

int Threads(int n) {
  return n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path, std::unique_ptr<GgufFile>* file) {
  OC_ASSIGN_OR_RETURN(*file, GgufFile::Open(path));
  OC_ASSIGN_OR_RETURN(VocabData vocab, ReadVocabData(**file));
  return Tokenizer::Create(std::move(vocab));
}

Result<TrainConfig> LoadConfig(const std::string& path) {
  OC_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 1 << 20));
  Result<TrainConfig> c = ParseTrainConfig(text);
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

void WriteVocab(const TrainedBpe& bpe, const TokenizerTrainOptions& o, GgufWriter* w) {
  w->SetString("general.architecture", "llama");
  w->SetString("general.name", o.name);
  w->SetString("tokenizer.ggml.model", "gpt2");
  w->SetString("tokenizer.ggml.pre", o.pre);
  w->SetStringArray("tokenizer.ggml.tokens", bpe.tokens);
  w->SetInt32Array("tokenizer.ggml.token_type", bpe.types);
  w->SetStringArray("tokenizer.ggml.merges", bpe.merges);
  std::map<std::string, int32_t> id;
  for (size_t i = 0; i < bpe.tokens.size(); ++i) {
    if (bpe.types[i] == 3) id[bpe.tokens[i]] = static_cast<int32_t>(i);
  }
  // Documents are separated by <|endoftext|>; a prompt starts after one, as in training.
  w->SetUint32("tokenizer.ggml.bos_token_id", id["<|endoftext|>"]);
  w->SetUint32("tokenizer.ggml.eos_token_id", id["<|endoftext|>"]);
  w->SetUint32("tokenizer.ggml.eot_token_id", id["<|endoftext|>"]);
  w->SetUint32("tokenizer.ggml.padding_token_id", id["<|fim_pad|>"]);
  w->SetUint32("tokenizer.ggml.fim_pre_token_id", id["<|fim_prefix|>"]);
  w->SetUint32("tokenizer.ggml.fim_mid_token_id", id["<|fim_middle|>"]);
  w->SetUint32("tokenizer.ggml.fim_suf_token_id", id["<|fim_suffix|>"]);
  w->SetUint32("tokenizer.ggml.fim_pad_token_id", id["<|fim_pad|>"]);
  w->SetBool("tokenizer.ggml.add_bos_token", true);
  w->SetBool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

Result<std::string> BuildCorpus(const std::string& sources_file, const std::string& manifest_out) {
  OC_RETURN_IF_ERROR(CheckOutputPath(manifest_out));
  OC_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(sources_file, 1 << 20));
  OC_ASSIGN_OR_RETURN(std::vector<CorpusSource> sources, ParseCorpusSources(text));
  CorpusStats stats;
  OC_ASSIGN_OR_RETURN(std::vector<CorpusFile> files, omnicoder::BuildCorpus(sources, CorpusOptions{}, &stats));
  const std::string manifest = CorpusManifest(sources, files, stats);
  OC_RETURN_IF_ERROR(WriteFileAtomically(manifest_out, manifest));
  std::string summary;
  for (size_t i = 0; i < manifest.size() && manifest[i] == '#';) {
    const size_t e = manifest.find('\n', i);
    summary += manifest.substr(i, e - i + 1);
    i = e + 1;
  }
  return summary;
}

Result<std::string> TrainTokenizer(const TokenizerTrainOptions& o) {
  OC_RETURN_IF_ERROR(CheckOutputPath(o.output));
  OC_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(o.manifest, 1 << 28));
  OC_ASSIGN_OR_RETURN(std::vector<CorpusFile> files, ParseCorpusManifest(text));
  OC_ASSIGN_OR_RETURN(std::unique_ptr<BpeWordCounter> counter, BpeWordCounter::Create(o.pre));
  for (const CorpusFile& f : files) {
    if (f.validation) continue;  // held-out files never shape the vocabulary
    OC_ASSIGN_OR_RETURN(std::string body, ReadSmallFile(f.path, 1 << 26));
    counter->Add(body);
  }
  BpeTrainOptions bo;
  bo.vocab_size = o.vocab_size;
  for (const char* s : kSpecialTokens) bo.special_tokens.push_back(s);
  OC_ASSIGN_OR_RETURN(TrainedBpe bpe, TrainBpe(*counter, bo));
  GgufWriter w;
  WriteVocab(bpe, o, &w);
  OC_RETURN_IF_ERROR(w.WriteFile(o.output));
  return StrFormat("%s: %zu tokens (%zu merges) from %s of text, %zu distinct pre-tokens\n", o.output.c_str(),
                   bpe.tokens.size(), bpe.merges.size(), HumanBytes(counter->total_bytes()).c_str(),
                   counter->unique_words());
}

Result<std::string> TokenizeCorpus(const TokenizeCorpusOptions& o) {
  OC_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(o.manifest, 1 << 28));
  OC_ASSIGN_OR_RETURN(std::vector<CorpusFile> files, ParseCorpusManifest(text));
  std::unique_ptr<GgufFile> tok_file;
  OC_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, LoadTokenizer(o.tokenizer, &tok_file));
  OC_ASSIGN_OR_RETURN(std::string tok_bytes, ReadSmallFile(o.tokenizer, 1ull << 30));
  ShardOptions so;
  so.fim_rate = o.fim_rate;
  so.seed = o.seed;
  ThreadPool pool(Threads(o.n_threads));
  so.tokenizer_sha256 = Sha256Hex(tok_bytes);
  so.corpus_sha256 = Sha256Hex(text);
  return WriteTokenShards(files, *tok, so, pool, o.out_dir);
}

Result<MatmulPrecision> ParseMatmulPrecision(std::string_view text) {
  if (text == "bf16") return MatmulPrecision::kBf16;
  if (text == "f32") return MatmulPrecision::kF32;
  return InvalidArgument("unknown matmul precision '" + std::string(text) + "' (one of: bf16, f32)");
}

namespace {
Status CheckIsa(Isa level) {
  if (level != Isa::kAuto && (static_cast<int>(level) > static_cast<int>(Isa::kAmx) || !IsaAvailable(level))) {
    return Unsupported(std::string("ISA '") + IsaName(level) + "' is not available on this CPU");
  }
  return Status::Ok();
}
}  // namespace

Result<TrainSummary> Train(const TrainOptions& o) {
  OC_ASSIGN_OR_RETURN(TrainConfig c, LoadConfig(o.config));
  const Isa level = o.isa;
  OC_RETURN_IF_ERROR(CheckIsa(level));
  if (o.matmul != MatmulPrecision::kBf16 && o.matmul != MatmulPrecision::kF32) {
    return InvalidArgument("unknown matmul precision value (bf16, f32)");
  }
  ThreadPool pool(Threads(o.n_threads));
  TrainContext ctx;
  const bool bf16 = ctx.Init(&GetKernelTable(level), &pool, o.matmul == MatmulPrecision::kBf16);
  if (o.progress)
    o.progress(bf16 ? "matmuls: BF16 inputs on AMX tiles, f32 accumulation and master weights"
                    : "matmuls: f32 (" + GetKernelTable(level).isa + ")");
  TrainRunOptions ro;
  ro.time_budget_seconds = o.time_budget_seconds;
  ro.max_steps = o.max_steps;
  ro.stop = o.stop;
  ro.progress = o.progress;
  OC_ASSIGN_OR_RETURN(TrainResult r, RunTraining(c, ro, ctx));
  TrainSummary s;
  s.step = r.step;
  s.finished = r.finished;
  s.resumed = r.resumed;
  s.elapsed_seconds = r.elapsed_seconds;
  s.last_loss = r.last_loss;
  return s;
}

Result<TrainEvaluation> EvaluateTrainedModel(const EvaluateOptions& o) {
  OC_ASSIGN_OR_RETURN(TrainConfig c, LoadConfig(o.config));
  OC_RETURN_IF_ERROR(CheckIsa(o.isa));
  ThreadPool pool(Threads(o.n_threads));
  TrainContext ctx;
  ctx.Init(&GetKernelTable(o.isa), &pool, /*bf16=*/false);  // f32: the numbers a user's engine computes
  return EvaluateRun(c, ctx);
}

Status ExportTrainedModel(const std::string& config, const std::string& output, const std::string& type) {
  OC_RETURN_IF_ERROR(CheckOutputPath(output));
  OC_ASSIGN_OR_RETURN(TrainConfig c, LoadConfig(config));
  DType t;
  if (!ParseDType(type, &t)) return InvalidArgument("unknown tensor type '" + type + "'");
  const std::vector<ParamTensor> layout = ParamLayout(c.model, c.init_std);
  const size_t n = ParamCount(layout);
  AlignedBuffer params, m, v;
  if (!params.Allocate(n * 4) || !m.Allocate(n * 4) || !v.Allocate(n * 4)) return OutOfMemory("export: no memory");
  const std::string ckpt = c.out_dir + "/checkpoint.ckpt";
  OC_ASSIGN_OR_RETURN(CheckpointHeader h, LoadCheckpoint(ckpt, {params.as<float>(), m.as<float>(), v.as<float>(), n}));
  if (h.config_sha256 != TrainConfigSha256(c)) return InvalidArgument("'" + ckpt + "' was trained with another config");
  OC_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> tok, GgufFile::Open(c.tokenizer));
  return ExportGguf(c, layout, params.as<float>(), *tok, t, output);
}

// CheckpointStateSha256 is defined by the train layer (train/checkpoint.cc).

}  // namespace omnicoder
