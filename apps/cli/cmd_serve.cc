// `omnicoder serve`: binds first (so /health answers 503 while the model loads), loads the
// model, starts the scheduler, then serves until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "apps/cli/commands.h"
#include "apps/cli/common.h"
#include "apps/cli/validate.h"
#include "apps/server/http_server.h"
#include "apps/server/scheduler.h"

namespace omnicoder::cli {

namespace {

bool CheckServeOptions(const ServeOptions& o) {
  auto bad = [](const char* msg) {
    std::fprintf(stderr, "omnicoder serve: %s\n", msg);
    return false;
  };
  if (o.port < 0 || o.port > 65535) return bad("--port must be in [0, 65535]");
  if (o.parallel < 1 || o.parallel > 256) return bad("--parallel must be in [1, 256]");
  if (o.ctx_len < 0) return bad("-c must be >= 0 (0 = the model's context, as far as memory allows)");
  if (o.batch < 1 || o.batch > 8192) return bad("--batch-size must be in [1, 8192]");
  if (o.max_queue < 0 || o.max_queue > 100000) return bad("--max-queue must be in [0, 100000]");
  if (o.timeout < 1 || o.timeout > 3600) return bad("--timeout must be in [1, 3600] seconds");
  if (o.body_limit < 1024 || o.body_limit > (1ull << 30)) return bad("--body-limit must be in [1024, 2^30] bytes");
  return true;
}

std::string DefaultAlias(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) name.resize(name.size() - 5);
  return name;
}

// Binds and starts answering (503 until the model is ready); null after printing why not.
std::unique_ptr<server::HttpServer> StartHttp(const ServeOptions& o, server::HttpOptions* ho) {
  ho->host = o.host;
  ho->port = o.port;
  ho->api_key = o.api_key;
  if (ho->api_key.empty()) {
    if (const char* env = std::getenv("OMNICODER_API_KEY")) ho->api_key = env;
  }
  ho->cors_origins = o.cors_origins;
  ho->body_limit = o.body_limit;
  ho->timeout_seconds = o.timeout;
  ho->model_name = o.alias.empty() ? DefaultAlias(o.common.model) : o.alias;
  // Each running or queued request holds an HTTP thread; a few more answer everything else.
  ho->n_workers = o.parallel + o.max_queue + 8;
  Result<std::unique_ptr<server::HttpServer>> http = server::HttpServer::Bind(*ho);
  if (!http.ok()) {
    PrintError("serve", http.status());
    return nullptr;
  }
  http.value()->Start();
  std::fprintf(stderr, "omnicoder serve: listening on http://%s:%d (loading %s)\n", o.host.c_str(),
               http.value()->port(), o.common.model.c_str());
  return std::move(http).value();
}

}  // namespace

int ServeCommand(const ServeOptions& o) {
  if (!CheckServeOptions(o)) return 2;
  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::HttpOptions ho;
  std::unique_ptr<server::HttpServer> http = StartHttp(o, &ho);
  if (!http) return 1;
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  SessionOptions planned;
  planned.ctx_len = o.ctx_len;
  planned.batch = o.batch;
  planned.kv_type = o.kv_type;
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, /*vocab_only=*/false, &planned);
  if (!model) return 1;
  server::SchedulerOptions so;
  so.n_slots = o.parallel;
  so.ctx_len = o.ctx_len;
  so.step_tokens = o.batch;
  so.max_queue = o.max_queue;
  so.kv_type = o.kv_type;
  Result<std::unique_ptr<server::Scheduler>> sched = server::Scheduler::Create(*engine, *model, so);
  if (!sched.ok()) {
    PrintError("serve", sched.status());
    return 1;
  }
  http->SetReady(model.get(), sched.value().get());
  std::fprintf(stderr, "omnicoder serve: ready: %d slots of %d tokens, model '%s'%s\n", o.parallel,
               sched.value()->ctx_len(), ho.model_name.c_str(), ho.api_key.empty() ? "" : ", API key required");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "omnicoder serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  sched.value()->Stop();  // running and queued requests get an error event and end
  http->Stop();
  const Status closed = model->Close();
  if (!closed.ok()) {
    PrintError("serve", closed);
    return 1;
  }
  return 0;
}

}  // namespace omnicoder::cli
