// `omnicoder bench`: prompt processing and generation speed, llama-bench's method:
// pp = n_prompt tokens in one batch from an empty context; tg = n_gen single-token
// steps from an empty context; a warm-up run first; median over repetitions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "apps/cli/common.h"
#include "apps/cli/machine.h"
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

// Back to the first o.depth tokens (evaluated once, before the first measurement).
Status Rewind(const BenchOptions& o, Model& model, Session& session, std::mt19937& rng) {
  if (o.depth == 0) {
    session.Reset();
    return Status::Ok();
  }
  if (session.SeqLength(0) >= o.depth) return session.SeqTruncate(0, o.depth);
  session.Reset();
  std::vector<int32_t> t(o.depth);
  for (int32_t& x : t) x = static_cast<int32_t>(rng() % session.vocab_size());
  if (model.bos() >= 0) t[0] = model.bos();
  return session.Eval(t);
}

// Warm-up then o.reps measured repetitions of pp (one batch) and tg (single tokens).
bool Measure(const BenchOptions& o, Model& model, Session& session, Runs* runs) {
  std::mt19937 rng(1234);
  const int vocab = session.vocab_size();
  std::vector<int32_t> one(1);
  for (int rep = -1; rep < o.reps; ++rep) {
    if (o.n_prompt > 0) {
      if (Status r = Rewind(o, model, session, rng); !r.ok()) return PrintError("bench depth", r), false;
      std::vector<int32_t> t(o.n_prompt);
      for (int32_t& x : t) x = static_cast<int32_t>(rng() % vocab);
      if (model.bos() >= 0 && o.depth == 0) t[0] = model.bos();
      const double a = Now();
      Status s = session.Eval(t);
      if (!s.ok()) {
        PrintError("bench prompt", s);
        return false;
      }
      if (rep >= 0) runs->pp.push_back(o.n_prompt / (Now() - a));
    }
    if (o.n_gen > 0) {
      if (Status r = Rewind(o, model, session, rng); !r.ok()) return PrintError("bench depth", r), false;
      one[0] = model.bos() >= 0 && o.depth == 0 ? model.bos() : static_cast<int32_t>(rng() % vocab);
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
    if (o.parallel > 1 && o.n_gen > 0 && o.depth == 0) {
      double tps = 0;
      if (!MeasureParallel(o, model, session, rng, &tps)) return false;
      if (rep >= 0) runs->par.push_back(tps);
    }
  }
  return true;
}

// The read bandwidth is measured before and after the runs (on shared or virtual machines
// it moves within seconds); the roofline takes the higher, so the fraction of it that tg
// reaches errs low, not high.
struct Machine {
  std::string cpu;
  double read_gbs_before = 0, read_gbs_after = 0;
  double read_gbs = 0;      // the higher of the two
  double roofline_tps = 0;  // tg if every decode step only read its bytes at read_gbs
};

// Bytes one generated token reads at this depth (weights + KV, F16), and the tg they allow.
double RooflineTps(const BenchOptions& o, const ModelInfo& info, double read_gbs) {
  const double pos = o.depth + o.n_gen / 2.0;  // average context during tg
  const double window = info.sliding_window > 0 ? std::min<double>(pos, info.sliding_window) : 0;
  const double bytes = static_cast<double>(info.decode_bytes_per_token) + pos * info.kv_bytes_per_position +
                       window * info.kv_window_bytes_per_position;
  return bytes > 0 ? read_gbs * 1e9 / bytes : 0;
}

void Print(const BenchOptions& o, const Engine& engine, const ModelInfo& info, const Runs& r, const Machine& m) {
  const double tg = Median(r.tg);
  const double frac = m.roofline_tps > 0 ? tg / m.roofline_tps : 0;
  if (o.json) {
    auto list = [](const std::vector<double>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    };
    std::printf(
        "{\"model\": \"%s\", \"arch\": \"%s\", \"file_bytes\": %llu, \"threads\": %d, \"isa\": \"%s\", "
        "\"n_prompt\": %d, \"n_gen\": %d, \"reps\": %d, \"pp_tps\": %.3f, \"tg_tps\": %.3f, \"pp_runs\": %s, "
        "\"tg_runs\": %s, \"parallel\": %d, \"parallel_tg_tps\": %.3f, \"depth\": %d, \"cpu\": \"%s\", "
        "\"cpu_features\": \"%s\", \"read_bw_gbs\": %.2f, \"read_bw_gbs_before\": %.2f, "
        "\"read_bw_gbs_after\": %.2f, \"decode_bytes_per_token\": %llu, "
        "\"tg_roofline_tps\": %.3f, \"tg_roofline_fraction\": %.3f}\n",
        info.path.c_str(), info.arch.c_str(), static_cast<unsigned long long>(info.file_bytes), engine.n_threads(),
        engine.isa().c_str(), o.n_prompt, o.n_gen, o.reps, Median(r.pp), Median(r.tg), list(r.pp).c_str(),
        list(r.tg).c_str(), o.parallel, Median(r.par), o.depth, m.cpu.c_str(), engine.cpu_features().c_str(),
        m.read_gbs, m.read_gbs_before, m.read_gbs_after, static_cast<unsigned long long>(info.decode_bytes_per_token),
        m.roofline_tps, frac);
    return;
  }
  std::printf(
      "cpu: %s\nflags: %s\nkernels: %s, %d threads; read bandwidth %.1f GB/s (%d threads; %.1f before the runs, "
      "%.1f after)\n\n",
      m.cpu.c_str(), engine.cpu_features().c_str(), engine.isa().c_str(), engine.n_threads(), m.read_gbs,
      engine.n_threads(), m.read_gbs_before, m.read_gbs_after);
  std::printf("| model | size | threads | isa | test | t/s (median of %d) |\n|---|---|---|---|---|---|\n", o.reps);
  const double gib = info.file_bytes / 1073741824.0;
  if (o.n_prompt > 0) {
    std::printf("| %s | %.2f GiB | %d | %s | pp%d%s | %.2f |\n", info.name.c_str(), gib, engine.n_threads(),
                engine.isa().c_str(), o.n_prompt, o.depth > 0 ? (" @ d" + std::to_string(o.depth)).c_str() : "",
                Median(r.pp));
  }
  const std::string at = o.depth > 0 ? " @ d" + std::to_string(o.depth) : "";
  if (o.n_gen > 0) {
    std::printf("| %s | %.2f GiB | %d | %s | tg%d%s | %.2f (%.0f%% of the %.1f tok/s bandwidth roofline) |\n",
                info.name.c_str(), gib, engine.n_threads(), engine.isa().c_str(), o.n_gen, at.c_str(), tg, 100 * frac,
                m.roofline_tps);
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
  if (o.depth < 0 || o.depth > (1 << 20)) {
    std::fprintf(stderr, "omnicoder: -d must be in [0, 1048576]\n");
    return 1;
  }
  if (o.parallel < 1 || o.parallel > 256) {
    std::fprintf(stderr, "omnicoder: --parallel must be in [1, 256]\n");
    return 1;
  }
  SessionOptions so;
  so.ctx_len = o.depth + std::max(o.n_prompt, o.n_gen) + 16;
  so.n_seq = o.parallel;
  so.batch = std::clamp(std::max(o.n_prompt, o.depth), 1, 512);  // the depth is filled in batches too
  so.allow_beyond_trained_ctx = true;                            // speed, not text quality
  Loaded l;
  if (!LoadForEval(o.common, so, &l)) return 1;
  Machine m;
  m.cpu = CpuModelName();
  m.read_gbs_before = MeasureReadBandwidth(l.engine->n_threads());
  Runs runs;
  if (!Measure(o, *l.model, *l.session, &runs)) return 1;
  m.read_gbs_after = o.n_gen > 0 ? MeasureReadBandwidth(l.engine->n_threads()) : m.read_gbs_before;
  m.read_gbs = std::max(m.read_gbs_before, m.read_gbs_after);
  m.roofline_tps = RooflineTps(o, l.model->info(), m.read_gbs);
  Print(o, *l.engine, l.model->info(), runs, m);
  if (o.common.pager_stats) PrintPagerStats(*l.model, (o.reps + 1) * o.n_gen);
  return FinishStdout(0);
}

}  // namespace omnicoder::cli
