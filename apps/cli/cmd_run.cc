// `omnicoder run`: stream a continuation of a prompt to stdout; stats to stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "apps/cli/common.h"

namespace omnicoder::cli {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

SamplerOptions SamplerFrom(const RunOptions& o) {
  SamplerOptions sp = o.sampling;
  sp.seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();
  return sp;
}

// Streams up to n_predict tokens to stdout; returns how many were generated, -1 on error.
int Generate(const RunOptions& o, Model& model, Session& session, Sampler& sampler) {
  int n_gen = 0;
  std::vector<int32_t> next(1);
  while (n_gen < o.n_predict) {
    next[0] = sampler.Sample(session.Logits());
    if (!o.ignore_eos && model.IsEndOfGeneration(next[0])) break;
    const std::string piece = model.TokenToPiece(next[0]);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    sampler.Accept(next[0]);
    if (++n_gen == o.n_predict) break;
    Status s = session.Eval(next);
    if (!s.ok()) {
      std::fprintf(stdout, "\n");
      PrintError("generation failed", s);
      return -1;
    }
  }
  return n_gen;
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
  SessionOptions so;
  so.ctx_len = o.ctx_len;
  so.batch = o.batch;
  so.kv_type = o.kv_type;
  Loaded l;
  if (!LoadForEval(o.common, so, &l)) return 1;
  const double t_load = Now() - t0;
  std::vector<int32_t> tokens = l.model->Tokenize(prompt, true, false);
  if (o.no_bos && !tokens.empty() && tokens[0] == l.model->bos()) tokens.erase(tokens.begin());
  if (tokens.empty()) {
    std::fprintf(stderr, "omnicoder: the prompt is empty and the model adds no BOS token; give -p TEXT\n");
    return 1;
  }
  if (static_cast<int>(tokens.size()) + o.n_predict > l.session->capacity()) {
    std::fprintf(stderr, "omnicoder: prompt (%zu tokens) + %d to generate exceed the context of %d (use -c)\n",
                 tokens.size(), o.n_predict, l.session->capacity());
    return 1;
  }
  Sampler sampler(SamplerFrom(o), l.session->vocab_size());
  for (int32_t t : tokens) sampler.Accept(t);
  const double t1 = Now();
  Status s = l.session->Eval(tokens);
  if (!s.ok()) {
    PrintError("prompt evaluation failed", s);
    return 1;
  }
  const double t_prompt = Now() - t1, t2 = Now();
  const int n_gen = Generate(o, *l.model, *l.session, sampler);
  if (n_gen < 0) return 1;
  const double t_gen = Now() - t2;
  if (isatty(STDOUT_FILENO)) std::fprintf(stdout, "\n");  // piped output is the continuation, byte for byte
  std::fflush(stdout);
  const ModelInfo& info = l.model->info();
  std::fprintf(stderr,
               "\nmodel: %s (%s%s), isa %s, %d threads, load %.2f s\n"
               "prompt: %zu tokens in %.3f s (%.2f tok/s)\n"
               "generate: %d tokens in %.3f s (%.2f tok/s)\n"
               "memory: rss %.1f MiB (peak %.1f MiB), session %.1f MiB\n",
               info.name.c_str(), info.arch.c_str(), info.n_experts ? ", MoE" : "", l.engine->isa().c_str(),
               l.engine->n_threads(), t_load, tokens.size(), t_prompt, tokens.size() / (t_prompt > 0 ? t_prompt : 1e-9),
               n_gen, t_gen, n_gen > 1 ? (n_gen - 1) / (t_gen > 0 ? t_gen : 1e-9) : 0.0,
               ResidentBytes() / 1048576.0, PeakResidentBytes() / 1048576.0, l.session->memory_bytes() / 1048576.0);
  if (o.common.pager_stats) PrintPagerStats(*l.model, n_gen);
  return 0;
}

}  // namespace omnicoder::cli
