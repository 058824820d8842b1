// Engine: thread pool, kernel selection, logging.
#include <sched.h>
#include <unistd.h>

#include <thread>

#include "api/api_impl.h"
#include "base/cpu_features.h"

namespace omnicoder {

namespace {

int DefaultThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.n_threads < 0 || options.n_threads > 1024) {
    return InvalidArgument("thread count must be between 1 and 1024 (0 = automatic)");
  }
  const Isa level = options.isa;
  if (static_cast<int>(level) < 0 || static_cast<int>(level) > static_cast<int>(Isa::kAmx)) {
    return InvalidArgument("unknown ISA value");
  }
  if (level != Isa::kAuto && !IsaAvailable(level)) {
    return Unsupported(std::string("ISA '") + IsaName(level) + "' is not available on this CPU (" +
                       GetCpuFeatures().ToString() + ")");
  }
  auto impl = std::make_unique<Impl>();
  impl->pool = std::make_unique<ThreadPool>(options.n_threads ? options.n_threads : DefaultThreads());
  impl->kernels = &GetKernelTable(level);
  if (options.log) {
    auto sink = options.log;
    impl->logger = Logger(sink);
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

int Engine::n_threads() const {
  return impl_->pool->size();
}
std::string Engine::isa() const {
  return impl_->kernels->isa;
}
std::string Engine::cpu_features() const {
  return GetCpuFeatures().ToString();
}

std::string Version() {
  return "0.1.0";
}

}  // namespace omnicoder
