// `omnicoder run`: stream a continuation of a prompt to stdout; stats to stderr.
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/cli/common.h"

namespace omnicoder::cli {

namespace {
double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int RunCommand(const RunOptions& o) {
  std::string prompt = o.prompt;
  if (!o.prompt_file.empty() && !ReadFileToString(o.prompt_file, &prompt)) {
    std::fprintf(stderr, "omnicoder: cannot read prompt file '%s'\n", o.prompt_file.c_str());
    return 1;
  }
  if (o.n_predict < 0) {
    std::fprintf(stderr, "omnicoder: -n must be >= 0\n");
    return 1;
  }
  const double t0 = Now();
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, false);
  if (!model) return 1;
  SessionOptions so;
  so.ctx_len = o.ctx_len;
  so.batch = o.batch;
  so.kv_type = o.kv_type;
  Result<std::unique_ptr<Session>> sr = Session::Create(*engine, *model, so);
  if (!sr.ok()) {
    PrintError("cannot create session", sr.status());
    return 1;
  }
  Session& session = *sr.value();
  const double t_load = Now() - t0;

  std::vector<int32_t> tokens = model->Tokenize(prompt, true, false);
  if (o.no_bos && !tokens.empty() && tokens[0] == model->bos()) tokens.erase(tokens.begin());
  if (tokens.empty()) {
    std::fprintf(stderr, "omnicoder: the prompt is empty and the model adds no BOS token; give -p TEXT\n");
    return 1;
  }
  if (static_cast<int>(tokens.size()) + o.n_predict > session.capacity()) {
    std::fprintf(stderr, "omnicoder: prompt (%zu tokens) + %d to generate exceed the context of %d (use -c)\n",
                 tokens.size(), o.n_predict, session.capacity());
    return 1;
  }
  SamplerOptions sp;
  sp.temperature = o.temperature;
  sp.top_k = o.top_k;
  sp.top_p = o.top_p;
  sp.min_p = o.min_p;
  sp.repeat_penalty = o.repeat_penalty;
  sp.repeat_last_n = o.repeat_last_n;
  sp.seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();
  Sampler sampler(sp, session.vocab_size());
  for (int32_t t : tokens) sampler.Accept(t);

  const double t1 = Now();
  Status s = session.Eval(tokens);
  if (!s.ok()) {
    PrintError("prompt evaluation failed", s);
    return 1;
  }
  const double t_prompt = Now() - t1;
  const double t2 = Now();
  int n_gen = 0;
  for (; n_gen < o.n_predict; ++n_gen) {
    const int32_t next = sampler.Sample(session.Logits());
    if (!o.ignore_eos && model->IsEndOfGeneration(next)) break;
    const std::string piece = model->TokenToPiece(next);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    sampler.Accept(next);
    if (n_gen + 1 == o.n_predict) {
      ++n_gen;
      break;
    }
    s = session.Eval({next});
    if (!s.ok()) {
      std::fprintf(stdout, "\n");
      PrintError("generation failed", s);
      return 1;
    }
  }
  const double t_gen = Now() - t2;
  std::fprintf(stdout, "\n");
  std::fflush(stdout);
  const ModelInfo& info = model->info();
  std::fprintf(stderr,
               "\nmodel: %s (%s%s), isa %s, %d threads, load %.2f s\n"
               "prompt: %zu tokens in %.3f s (%.2f tok/s)\n"
               "generate: %d tokens in %.3f s (%.2f tok/s)\n"
               "memory: rss %.1f MiB (peak %.1f MiB), session %.1f MiB\n",
               info.name.c_str(), info.arch.c_str(), info.n_experts ? ", MoE" : "", engine->isa().c_str(),
               engine->n_threads(), t_load, tokens.size(), t_prompt, tokens.size() / (t_prompt > 0 ? t_prompt : 1e-9),
               n_gen, t_gen, n_gen > 1 ? (n_gen - 1) / (t_gen > 0 ? t_gen : 1e-9) : 0.0,
               ResidentBytes() / 1048576.0, PeakResidentBytes() / 1048576.0, session.memory_bytes() / 1048576.0);
  return 0;
}

}  // namespace omnicoder::cli
