// CLI plumbing.
#include "apps/cli/common.h"

#include "apps/cli/validate.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace omnicoder::cli {

namespace {
std::string HumanBytes(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GiB", b / 1073741824.0);
  return buf;
}
}  // namespace

void PrintError(const std::string& what, const Status& s) {
  std::fprintf(stderr, "omnicoder: %s: %s\n", what.c_str(), s.ToString().c_str());
}

std::unique_ptr<Engine> MakeEngine(const CommonOptions& o) {
  EngineOptions eo;
  eo.n_threads = o.threads;
  if (!CheckThreads(&eo.n_threads, "-t")) return nullptr;
  eo.isa = o.isa;
  if (o.verbose) {
    eo.log = [](LogSeverity, const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  }
  Result<std::unique_ptr<Engine>> e = Engine::Create(eo);
  if (!e.ok()) {
    PrintError("engine", e.status());
    return nullptr;
  }
  return std::move(e).value();
}

std::unique_ptr<Model> LoadModelOrPrint(Engine& engine, const CommonOptions& o, bool vocab_only,
                                        const SessionOptions* planned) {
  if (o.model.empty()) {
    std::fprintf(stderr, "omnicoder: no model given (-m FILE)\n");
    return nullptr;
  }
  LoadOptions lo;
  lo.vocab_only = vocab_only;
  lo.check_tensors = o.check_tensors;
  lo.use_mmap = o.use_mmap;
  if (!o.mem_budget.empty()) {
    Result<uint64_t> budget = ParseMemBudget(o.mem_budget);
    if (!budget.ok()) {
      PrintError("--mem-budget", budget.status());
      return nullptr;
    }
    lo.mem_budget = budget.value();
  }
  lo.expert_slots = o.expert_slots;
  lo.pager_policy = o.pager_policy;
  lo.prefetch = !o.no_prefetch;
  lo.routing_trace = o.routing_trace;
  if (planned) {
    lo.planned_ctx_len = planned->ctx_len;  // 0: DefaultCtxLen (a budgeted load plans for it)
    lo.planned_batch = planned->batch;
    lo.planned_kv_type = planned->kv_type;
  }
  const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    lo.progress = [](float f) {
      const int width = 30, filled = static_cast<int>(std::lround(f * width));
      std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "##############################", width - filled, "",
                   static_cast<int>(std::lround(f * 100.0f)));
      if (f >= 1.0f) std::fprintf(stderr, "\r%*s\r", width + 20, "");
      std::fflush(stderr);
    };
  }
  Result<std::unique_ptr<Model>> m = Model::Load(engine, o.model, lo);
  if (!m.ok()) {
    if (tty) std::fprintf(stderr, "\n");
    PrintError("cannot load model", m.status());
    return nullptr;
  }
  const std::string plan = m.value()->memory_plan();
  if (!plan.empty()) std::fprintf(stderr, "%s", plan.c_str());
  return std::move(m).value();
}

void PrintPagerStats(const Model& model, int tokens) {
  PagerStats s;
  if (!model.pager_stats(&s)) {
    std::fprintf(stderr, "pager: experts are resident (no --mem-budget, or the budget holds them all)\n");
    return;
  }
  const double per_token = tokens > 0 ? 1.0 / tokens : 0.0;
  std::fprintf(
      stderr,
      "pager: %d slots for %d experts; acquires %llu = hits %llu + prefetch hits %llu + misses %llu "
      "(hit rate %.1f%%)\n"
      "pager: prefetch issued %llu, used %llu, wasted %llu; predictor precision %.1f%%, recall %.1f%%\n"
      "pager: read %s in %.2f s (%.2f GB/s); I/O stall %.3f s (%.1f ms/token over %d tokens)\n",
      s.slots, s.total_experts, static_cast<unsigned long long>(s.acquires), static_cast<unsigned long long>(s.hits),
      static_cast<unsigned long long>(s.prefetch_hits), static_cast<unsigned long long>(s.misses),
      s.acquires ? 100.0 * (s.acquires - s.misses) / s.acquires : 0.0,
      static_cast<unsigned long long>(s.prefetch_issued), static_cast<unsigned long long>(s.prefetch_hits),
      static_cast<unsigned long long>(s.prefetch_wasted), s.predicted ? 100.0 * s.predicted_used / s.predicted : 0.0,
      s.routed ? 100.0 * s.predicted_used / s.routed : 0.0, HumanBytes(s.bytes_read).c_str(), s.read_seconds,
      s.read_seconds > 0 ? s.bytes_read / s.read_seconds / 1e9 : 0.0, s.stall_seconds,
      1000.0 * s.stall_seconds * per_token, tokens);
}

bool LoadForEval(const CommonOptions& o, const SessionOptions& session_options, Loaded* out) {
  out->engine = MakeEngine(o);
  if (!out->engine) return false;
  out->model = LoadModelOrPrint(*out->engine, o, false, &session_options);
  if (!out->model) return false;
  Result<std::unique_ptr<Session>> s = Session::Create(*out->engine, *out->model, session_options);
  if (!s.ok()) {
    PrintError("cannot create session", s.status());
    return false;
  }
  out->session = std::move(s).value();
  return true;
}

bool ReadFileToString(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

namespace {
uint64_t StatusField(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = field;
  while (std::getline(f, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      unsigned long long kb = 0;
      std::sscanf(line.c_str() + key.size(), " %llu", &kb);
      return kb * 1024;
    }
  }
  return 0;
}
}  // namespace

uint64_t ResidentBytes() {
  return StatusField("VmRSS:");
}
// The kernel updates VmHWM lazily; the peak is never below the current size.
uint64_t PeakResidentBytes() {
  return std::max(StatusField("VmHWM:"), StatusField("VmRSS:"));
}

}  // namespace omnicoder::cli
