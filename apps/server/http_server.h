// The HTTP side of `omnicoder serve`: OpenAI-compatible routes on cpp-httplib, API-key and
// CORS checks, body and nesting limits, SSE streaming, /health, /metrics. It answers 503
// until SetReady hands it a loaded model and its scheduler.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "apps/server/scheduler.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0: any free port (see HttpServer::port)
  std::string api_key;                    // "": no authentication
  std::vector<std::string> cors_origins;  // empty: no CORS headers; "*": any origin
  size_t body_limit = 4u << 20;           // bytes; larger bodies get 413
  int json_depth_limit = 32;
  int timeout_seconds = 30;  // reading a request / writing a response
  int n_workers = 16;        // HTTP threads (each streaming request holds one)
  std::string model_name;    // listed by /v1/models, echoed in responses
};

class HttpServer {
 public:
  // Binds the socket (an error when the port is taken).
  static Result<std::unique_ptr<HttpServer>> Bind(const HttpOptions& options);
  ~HttpServer();
  int port() const;
  void Start();  // serves on a background thread
  void SetReady(const Model* model, Scheduler* scheduler);
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Constant-time equality (time depends only on the lengths).
bool SecureEquals(const std::string& a, const std::string& b);

}  // namespace omnicoder::server
