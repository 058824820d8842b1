// `omnicoder corpus | train-tokenizer | tokenize-corpus | train | evaluate | export`.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

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

namespace {

void PrintEvaluation(const TrainEvaluation& e) {
  std::printf("checkpoint at step %d (%.2f h of training)\n", e.step, e.elapsed_seconds / 3600.0);
  for (const ValidationResult& v : e.sets) {
    std::printf("%-12s %8lld tokens %9lld bytes  %.4f nats/token  %.4f bits/byte  (%lld tokens scored)\n",
                v.name.c_str(), static_cast<long long>(v.n_tokens), static_cast<long long>(v.n_bytes), v.nats_per_token,
                v.bits_per_byte, static_cast<long long>(v.n_predicted));
  }
  if (e.layers.empty()) return;
  std::printf("routing over those tokens (%d experts; load = slots routed to an expert / mean):\n", e.n_experts);
  std::printf("layer  max/mean  min/mean  router entropy (nats, uniform = %.3f)\n", e.layers[0].max_entropy);
  for (const LayerRoutingStats& l : e.layers) {
    std::printf("%5d  %8.3f  %8.3f  %.3f\n", l.layer, l.max_over_mean, l.min_over_mean, l.router_entropy);
  }
}

void PrintEvaluationJson(const TrainEvaluation& e) {
  std::string sets, layers;
  for (const ValidationResult& v : e.sets) {
    sets += std::string(sets.empty() ? "" : ", ") + "{\"name\": \"" + v.name +
            "\", \"tokens\": " + std::to_string(v.n_tokens) + ", \"bytes\": " + std::to_string(v.n_bytes) +
            ", \"scored_tokens\": " + std::to_string(v.n_predicted) +
            ", \"nats_per_token\": " + std::to_string(v.nats_per_token) +
            ", \"bits_per_byte\": " + std::to_string(v.bits_per_byte) + "}";
  }
  for (const LayerRoutingStats& l : e.layers) {
    layers += std::string(layers.empty() ? "" : ", ") + "{\"layer\": " + std::to_string(l.layer) +
              ", \"max_over_mean\": " + std::to_string(l.max_over_mean) +
              ", \"min_over_mean\": " + std::to_string(l.min_over_mean) +
              ", \"router_entropy\": " + std::to_string(l.router_entropy) + "}";
  }
  std::printf("{\"step\": %d, \"elapsed_s\": %.1f, \"experts\": %d, \"sets\": [%s], \"layers\": [%s]}\n", e.step,
              e.elapsed_seconds, e.n_experts, sets.c_str(), layers.c_str());
}

}  // namespace

int EvaluateCommand(EvaluateCliOptions o) {
  if (!CheckThreads(&o.eval.n_threads, "-t")) return 1;
  Result<TrainEvaluation> r = EvaluateTrainedModel(o.eval);
  if (!r.ok()) return Fail(r.status());
  if (o.json) {
    PrintEvaluationJson(*r);
  } else {
    PrintEvaluation(*r);
  }
  return 0;
}

}  // namespace omnicoder::cli
