// CLI plumbing.
#include "apps/cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace omnicoder::cli {

void PrintError(const std::string& what, const Status& s) {
  std::fprintf(stderr, "omnicoder: %s: %s\n", what.c_str(), s.ToString().c_str());
}

std::unique_ptr<Engine> MakeEngine(const CommonOptions& o) {
  EngineOptions eo;
  eo.n_threads = o.threads;
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

std::unique_ptr<Model> LoadModelOrPrint(Engine& engine, const CommonOptions& o, bool vocab_only) {
  if (o.model.empty()) {
    std::fprintf(stderr, "omnicoder: no model given (-m FILE)\n");
    return nullptr;
  }
  LoadOptions lo;
  lo.vocab_only = vocab_only;
  lo.check_tensors = o.check_tensors;
  lo.use_mmap = o.use_mmap;
  const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    lo.progress = [](float f) {
      const int width = 30, filled = static_cast<int>(f * width + 0.5f);
      std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "##############################", width - filled, "",
                   static_cast<int>(f * 100.0f + 0.5f));
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
  return std::move(m).value();
}

bool LoadForEval(const CommonOptions& o, const SessionOptions& session_options, Loaded* out) {
  out->engine = MakeEngine(o);
  if (!out->engine) return false;
  out->model = LoadModelOrPrint(*out->engine, o, false);
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

uint64_t ResidentBytes() { return StatusField("VmRSS:"); }
uint64_t PeakResidentBytes() { return StatusField("VmHWM:"); }

}  // namespace omnicoder::cli
