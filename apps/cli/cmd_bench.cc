// `omnicoder bench`: prompt processing and generation speed, llama-bench's method:
// pp = n_prompt tokens in one batch from an empty context; tg = n_gen single-token
// steps from an empty context; a warm-up run first; median over repetitions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/cli/common.h"

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

}  // namespace

int BenchCommand(const BenchOptions& o) {
  if (o.n_prompt < 0 || o.n_gen < 0 || o.reps < 1) {
    std::fprintf(stderr, "omnicoder: bench needs -p >= 0, -n >= 0, -r >= 1\n");
    return 1;
  }
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, false);
  if (!model) return 1;
  SessionOptions so;
  so.ctx_len = std::max(o.n_prompt, o.n_gen) + 16;
  so.batch = std::max(1, std::min(o.n_prompt, 512));
  Result<std::unique_ptr<Session>> sr = Session::Create(*engine, *model, so);
  if (!sr.ok()) {
    PrintError("cannot create session", sr.status());
    return 1;
  }
  Session& session = *sr.value();
  std::mt19937 rng(1234);
  const int vocab = session.vocab_size();
  auto random_tokens = [&](int n) {
    std::vector<int32_t> t(n);
    for (int32_t& x : t) x = static_cast<int32_t>(rng() % vocab);
    if (n > 0 && model->bos() >= 0) t[0] = model->bos();
    return t;
  };
  std::vector<double> pp, tg;
  for (int rep = -1; rep < o.reps; ++rep) {  // rep -1 is the warm-up
    if (o.n_prompt > 0) {
      session.Reset();
      std::vector<int32_t> t = random_tokens(o.n_prompt);
      const double a = Now();
      Status s = session.Eval(t);
      const double dt = Now() - a;
      if (!s.ok()) {
        PrintError("bench prompt", s);
        return 1;
      }
      if (rep >= 0) pp.push_back(o.n_prompt / dt);
    }
    if (o.n_gen > 0) {
      session.Reset();
      int32_t tok = model->bos() >= 0 ? model->bos() : 0;
      const double a = Now();
      for (int i = 0; i < o.n_gen; ++i) {
        Status s = session.Eval({tok});
        if (!s.ok()) {
          PrintError("bench generation", s);
          return 1;
        }
        tok = static_cast<int32_t>(rng() % vocab);
      }
      const double dt = Now() - a;
      if (rep >= 0) tg.push_back(o.n_gen / dt);
    }
  }
  const ModelInfo& info = model->info();
  if (o.json) {
    auto list = [](const std::vector<double>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    };
    std::printf(
        "{\"model\": \"%s\", \"arch\": \"%s\", \"file_bytes\": %llu, \"threads\": %d, \"isa\": \"%s\", "
        "\"n_prompt\": %d, \"n_gen\": %d, \"reps\": %d, \"pp_tps\": %.3f, \"tg_tps\": %.3f, \"pp_runs\": %s, "
        "\"tg_runs\": %s}\n",
        info.path.c_str(), info.arch.c_str(), static_cast<unsigned long long>(info.file_bytes), engine->n_threads(),
        engine->isa().c_str(), o.n_prompt, o.n_gen, o.reps, Median(pp), Median(tg), list(pp).c_str(),
        list(tg).c_str());
  } else {
    std::printf("| model | size | threads | isa | test | t/s (median of %d) |\n|---|---|---|---|---|---|\n", o.reps);
    if (o.n_prompt > 0) {
      std::printf("| %s | %.2f GiB | %d | %s | pp%d | %.2f |\n", info.name.c_str(), info.file_bytes / 1073741824.0,
                  engine->n_threads(), engine->isa().c_str(), o.n_prompt, Median(pp));
    }
    if (o.n_gen > 0) {
      std::printf("| %s | %.2f GiB | %d | %s | tg%d | %.2f |\n", info.name.c_str(), info.file_bytes / 1073741824.0,
                  engine->n_threads(), engine->isa().c_str(), o.n_gen, Median(tg));
    }
  }
  return 0;
}

}  // namespace omnicoder::cli
