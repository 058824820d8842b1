// `omnicoder run`: stream a continuation of a prompt to stdout; stats to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/cli/common.h"
#include "apps/cli/validate.h"

namespace omnicoder::cli {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Streams up to n_predict tokens to stdout; returns how many were generated, -1 on error.
// Stops early (after a whole token) on SIGINT or when stdout fails.
int Generate(const RunOptions& o, Model& model, Session& session, Sampler& sampler) {
  int n_gen = 0;
  std::vector<int32_t> next(1);
  while (n_gen < o.n_predict && !Interrupted()) {
    next[0] = sampler.Sample(session.Logits());
    if (!o.ignore_eos && model.IsEndOfGeneration(next[0])) break;
    const std::string piece = model.TokenToPiece(next[0]);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    if (std::fflush(stdout) != 0) return -2;  // reported by FinishStdout
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

// Checks every option before any work; fills the prompt and the sampler options.
bool PrepareRun(const RunOptions& o, std::string* prompt, SamplerOptions* sp) {
  if (!o.prompt_file.empty() && !o.prompt.empty()) {
    std::fprintf(stderr, "omnicoder: give the prompt with -p or -f, not both\n");
    return false;
  }
  *prompt = o.prompt;
  if (!o.prompt_file.empty() && !ReadTextInput(o.prompt_file, "the prompt file", prompt)) return false;
  if (o.n_predict < 0) {
    std::fprintf(stderr, "omnicoder: -n must be >= 0\n");
    return false;
  }
  int64_t seed_mode = 0;
  uint64_t seed = 0;
  if (!ParseSeed(o.seed, &seed_mode, &seed)) return false;
  *sp = o.sampling;
  sp->seed = seed_mode < 0 ? std::random_device{}() : seed;
  Status v = ValidateSamplerOptions(*sp);
  if (!v.ok()) {
    std::fprintf(stderr, "omnicoder: %s\n", v.message().c_str());
    return false;
  }
  return true;
}

void PrintRunStats(const Loaded& l, double t_load, size_t n_prompt, double t_prompt, int n_gen, double t_gen) {
  const ModelInfo& info = l.model->info();
  std::fprintf(stderr,
               "\nmodel: %s (%s%s), isa %s, %d threads, load %.2f s\n"
               "prompt: %zu tokens in %.3f s (%.2f tok/s)\n"
               "generate: %d tokens in %.3f s (%.2f tok/s)\n"
               "memory: rss %.1f MiB (peak %.1f MiB), session %.1f MiB\n",
               info.name.c_str(), info.arch.c_str(), info.n_experts ? ", MoE" : "", l.engine->isa().c_str(),
               l.engine->n_threads(), t_load, n_prompt, t_prompt, n_prompt / (t_prompt > 0 ? t_prompt : 1e-9), n_gen,
               t_gen, n_gen > 1 ? (n_gen - 1) / (t_gen > 0 ? t_gen : 1e-9) : 0.0, ResidentBytes() / 1048576.0,
               PeakResidentBytes() / 1048576.0, l.session->memory_bytes() / 1048576.0);
}

}  // namespace

int RunCommand(const RunOptions& o) {
  std::string prompt;
  SamplerOptions sp;
  if (!PrepareRun(o, &prompt, &sp)) return 1;
  const double t0 = Now();
  SessionOptions so;
  so.ctx_len = o.ctx_len;
  so.batch = o.batch;
  so.kv_type = o.kv_type;
  so.allow_beyond_trained_ctx = o.allow_long_ctx;
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
  Sampler sampler(sp, l.session->vocab_size());
  for (int32_t t : tokens) sampler.Accept(t);
  const double t1 = Now();
  Status s = l.session->Eval(tokens);
  if (!s.ok()) {
    PrintError("prompt evaluation failed", s);
    return 1;
  }
  const double t_prompt = Now() - t1, t2 = Now();
  const int n_gen = Generate(o, *l.model, *l.session, sampler);
  if (n_gen == -1) return 1;
  if (n_gen >= 0 && isatty(STDOUT_FILENO)) std::fprintf(stdout, "\n");  // piped output is the continuation
  int rc = FinishStdout(n_gen == -2 ? 1 : 0);
  PrintRunStats(l, t_load, tokens.size(), t_prompt, std::max(n_gen, 0), Now() - t2);
  if (o.common.pager_stats) PrintPagerStats(*l.model, std::max(n_gen, 0));
  Status closed = l.model->Close();
  if (!closed.ok()) {
    PrintError("routing trace", closed);
    rc = 1;
  }
  if (Interrupted()) return 130;
  return rc;
}

}  // namespace omnicoder::cli
