// `omnicoder corpus | train-tokenizer | tokenize-corpus | train | export`.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "apps/cli/commands.h"
#include "apps/cli/validate.h"
#include "omnicoder/train.h"

namespace omnicoder::cli {

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  g_stop.store(true);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "omnicoder: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int CorpusCommand(const CorpusCliOptions& o) {
  Result<std::string> r = BuildCorpus(o.sources, o.output);
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "%s", r->c_str());
  return 0;
}

int TrainTokenizerCommand(const TokenizerTrainOptions& o) {
  Result<std::string> r = TrainTokenizer(o);
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "%s", r->c_str());
  return 0;
}

int TokenizeCorpusCommand(TokenizeCorpusOptions o) {
  if (!CheckThreads(&o.n_threads, "-t")) return 1;
  Result<std::string> r = TokenizeCorpus(o);
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "%s", r->c_str());
  return 0;
}

int TrainCommand(TrainOptions o) {
  if (!CheckThreads(&o.n_threads, "-t")) return 1;
  // Ctrl-C / SIGTERM: finish the step, write a checkpoint, exit (resumable).
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  o.stop = &g_stop;
  const bool tty = isatty(fileno(stderr));
  o.progress = [tty](const std::string& line) {
    std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line.c_str());
    std::fflush(stderr);
  };
  Result<TrainSummary> r = Train(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "%s at step %d (%.2f h of training in all%s); last loss %.4f\n",
               r->finished ? "finished" : "stopped, resumable,", r->step, r->elapsed_seconds / 3600.0,
               r->resumed ? ", resumed" : "", r->last_loss);
  return g_stop.load() ? 130 : 0;
}

int ExportCommand(const ExportCliOptions& o) {
  Status s = ExportTrainedModel(o.config, o.output, o.type);
  if (!s.ok()) return Fail(s);
  return 0;
}

}  // namespace omnicoder::cli
