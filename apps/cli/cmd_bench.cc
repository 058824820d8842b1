// `omnicoder bench`: prompt processing and generation speed, llama-bench's method:
// pp = n_prompt tokens in one batch from an empty context; tg = n_gen single-token
// steps from an empty context; a warm-up run first; median over repetitions.
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

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

struct Runs {
  std::vector<double> pp, tg, par;  // par: aggregate tok/s of --parallel sequences
};

// n_gen steps of `par` sequences decoded together (one token each per step), from a
// one-token start: aggregate generated tokens per second.
bool MeasureParallel(const BenchOptions& o, Model& model, Session& session, std::mt19937& rng, double* tps) {
  session.Reset();
  const int vocab = session.vocab_size();
  std::vector<BatchToken> batch(o.parallel);
  for (int q = 0; q < o.parallel; ++q) batch[q] = {model.bos() >= 0 ? model.bos() : 0, q, 0, true};
  const double a = Now();
  for (int i = 0; i < o.n_gen; ++i) {
    Status s = session.Decode(batch);
    if (!s.ok()) {
      PrintError("bench parallel generation", s);
      return false;
    }
    for (int q = 0; q < o.parallel; ++q) batch[q] = {static_cast<int32_t>(rng() % vocab), q, i + 1, true};
  }
  *tps = static_cast<double>(o.parallel) * o.n_gen / (Now() - a);
  return true;
}

// Warm-up then o.reps measured repetitions of pp (one batch) and tg (single tokens).
bool Measure(const BenchOptions& o, Model& model, Session& session, Runs* runs) {
  std::mt19937 rng(1234);
  const int vocab = session.vocab_size();
  std::vector<int32_t> one(1);
  for (int rep = -1; rep < o.reps; ++rep) {
    if (o.n_prompt > 0) {
      session.Reset();
      std::vector<int32_t> t(o.n_prompt);
      for (int32_t& x : t) x = static_cast<int32_t>(rng() % vocab);
      if (model.bos() >= 0) t[0] = model.bos();
      const double a = Now();
      Status s = session.Eval(t);
      if (!s.ok()) {
        PrintError("bench prompt", s);
        return false;
      }
      if (rep >= 0) runs->pp.push_back(o.n_prompt / (Now() - a));
    }
    if (o.n_gen > 0) {
      session.Reset();
      one[0] = model.bos() >= 0 ? model.bos() : 0;
      const double a = Now();
      for (int i = 0; i < o.n_gen; ++i) {
        Status s = session.Eval(one);
        if (!s.ok()) {
          PrintError("bench generation", s);
          return false;
        }
        one[0] = static_cast<int32_t>(rng() % vocab);
      }
      if (rep >= 0) runs->tg.push_back(o.n_gen / (Now() - a));
    }
    if (o.parallel > 1 && o.n_gen > 0) {
      double tps = 0;
      if (!MeasureParallel(o, model, session, rng, &tps)) return false;
      if (rep >= 0) runs->par.push_back(tps);
    }
  }
  return true;
}

void Print(const BenchOptions& o, const Engine& engine, const ModelInfo& info, const Runs& r) {
  if (o.json) {
    auto list = [](const std::vector<double>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    };
    std::printf(
        "{\"model\": \"%s\", \"arch\": \"%s\", \"file_bytes\": %llu, \"threads\": %d, \"isa\": \"%s\", "
        "\"n_prompt\": %d, \"n_gen\": %d, \"reps\": %d, \"pp_tps\": %.3f, \"tg_tps\": %.3f, \"pp_runs\": %s, "
        "\"tg_runs\": %s, \"parallel\": %d, \"parallel_tg_tps\": %.3f}\n",
        info.path.c_str(), info.arch.c_str(), static_cast<unsigned long long>(info.file_bytes), engine.n_threads(),
        engine.isa().c_str(), o.n_prompt, o.n_gen, o.reps, Median(r.pp), Median(r.tg), list(r.pp).c_str(),
        list(r.tg).c_str(), o.parallel, Median(r.par));
    return;
  }
  std::printf("| model | size | threads | isa | test | t/s (median of %d) |\n|---|---|---|---|---|---|\n", o.reps);
  const double gib = info.file_bytes / 1073741824.0;
  if (o.n_prompt > 0) {
    std::printf("| %s | %.2f GiB | %d | %s | pp%d | %.2f |\n", info.name.c_str(), gib, engine.n_threads(),
                engine.isa().c_str(), o.n_prompt, Median(r.pp));
  }
  if (o.n_gen > 0) {
    std::printf("| %s | %.2f GiB | %d | %s | tg%d | %.2f |\n", info.name.c_str(), gib, engine.n_threads(),
                engine.isa().c_str(), o.n_gen, Median(r.tg));
  }
  if (o.parallel > 1 && o.n_gen > 0) {
    std::printf("| %s | %.2f GiB | %d | %s | tg%d x %d seqs (aggregate) | %.2f (%.2fx one sequence) |\n",
                info.name.c_str(), gib, engine.n_threads(), engine.isa().c_str(), o.n_gen, o.parallel, Median(r.par),
                Median(r.tg) > 0 ? Median(r.par) / Median(r.tg) : 0.0);
  }
}

}  // namespace

int BenchCommand(const BenchOptions& o) {
  if (o.n_prompt < 0 || o.n_gen < 0 || o.reps < 1) {
    std::fprintf(stderr, "omnicoder: bench needs -p >= 0, -n >= 0, -r >= 1\n");
    return 1;
  }
  if (o.parallel < 1 || o.parallel > 256) {
    std::fprintf(stderr, "omnicoder: --parallel must be in [1, 256]\n");
    return 1;
  }
  SessionOptions so;
  so.ctx_len = std::max(o.n_prompt, o.n_gen) + 16;
  so.n_seq = o.parallel;
  so.batch = std::max(1, std::min(o.n_prompt, 512));
  so.allow_beyond_trained_ctx = true;  // speed, not text quality
  Loaded l;
  if (!LoadForEval(o.common, so, &l)) return 1;
  Runs runs;
  if (!Measure(o, *l.model, *l.session, &runs)) return 1;
  Print(o, *l.engine, l.model->info(), runs);
  if (o.common.pager_stats) PrintPagerStats(*l.model, (o.reps + 1) * o.n_gen);
  return FinishStdout(0);
}

}  // namespace omnicoder::cli
