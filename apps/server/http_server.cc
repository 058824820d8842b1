#include "apps/server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/server/chat_prompt.h"
#include "apps/server/metrics.h"
#include "apps/server/request.h"
#include "apps/server/response.h"
#include "apps/server/web_page.h"

namespace omnicoder::server {

using nlohmann::json;

bool SecureEquals(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = static_cast<unsigned>(a.size() ^ b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

struct HttpServer::Impl {
  HttpOptions options;
  httplib::Server svr;
  int port = 0;
  std::thread thread;
  std::atomic<const Model*> model{nullptr};
  std::atomic<Scheduler*> scheduler{nullptr};
  HttpCounters counters;
  int64_t started = 0;

  void Routes();
  void InfoRoutes();
  void GenerateRoutes();
  void TokenRoutes();
  bool PreRoute(const httplib::Request& req, httplib::Response& res);
  void Generate(Endpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void Error(httplib::Response& res, int status, const std::string& message, const std::string& type) const;
};

namespace {

constexpr auto kHeartbeat = std::chrono::milliseconds(1000);

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* ErrorType(int status) {
  if (status == 401) return "authentication_error";
  if (status == 404) return "not_found_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

// State shared by a streaming response's provider calls.
struct StreamState {
  std::shared_ptr<RequestChannel> channel;
  ResponseContext ctx;
  bool stream = false, include_usage = false;
  bool started = false, done = false;
  std::string text;  // non-streaming: the whole reply
  std::vector<TokenLogprob> logprobs;
};

bool WriteAll(httplib::DataSink& sink, const std::string& s) {
  return sink.write(s.data(), s.size());
}

// One provider call: waits for the next event and writes what it means.
bool Pump(StreamState& st, httplib::DataSink& sink) {
  if (st.done) {
    sink.done();
    return true;
  }
  if (st.stream && !st.started && st.ctx.endpoint == Endpoint::kChat) {
    st.started = true;
    StreamEvent role;  // the assistant role before any text, as OpenAI sends it
    return WriteAll(sink, DeltaChunk(st.ctx, role, /*first=*/true)) || (st.channel->Cancel(), false);
  }
  st.started = true;
  StreamEvent e;
  if (!st.channel->Pop(&e, kHeartbeat)) {
    // Nothing yet (queued or a slow step): a heartbeat shows whether the client is still
    // there (an SSE comment; leading whitespace before a JSON body).
    const bool ok = WriteAll(sink, st.stream ? std::string(":\n\n") : std::string(" "));
    if (!ok) st.channel->Cancel();
    return ok;
  }
  bool ok = true;
  if (st.stream) {
    if (e.finish == FinishReason::kError) {
      ok = WriteAll(sink, "data: " + ErrorBody(e.error, "server_error") + "\n\n");
    } else {
      if (!e.text.empty() || !e.logprobs.empty()) ok = WriteAll(sink, DeltaChunk(st.ctx, e, false));
      if (ok && e.finish != FinishReason::kNone) {
        ok = WriteAll(sink, FinishChunk(st.ctx, e));
        if (ok && st.include_usage) ok = WriteAll(sink, UsageChunk(st.ctx, e));
      }
    }
    if (ok && e.finish != FinishReason::kNone) ok = WriteAll(sink, "data: [DONE]\n\n");
  } else {
    st.text += e.text;
    for (TokenLogprob& lp : e.logprobs) st.logprobs.push_back(std::move(lp));
    if (e.finish == FinishReason::kError) {
      ok = WriteAll(sink, ErrorBody(e.error, "server_error"));
    } else if (e.finish != FinishReason::kNone) {
      ok = WriteAll(sink, CompletionBody(st.ctx, st.text, st.logprobs, e));
    }
  }
  if (!ok) {
    st.channel->Cancel();
    return false;
  }
  if (e.finish != FinishReason::kNone) {
    st.done = true;
    sink.done();
  }
  return true;
}

}  // namespace

void HttpServer::Impl::Error(httplib::Response& res, int status, const std::string& message,
                             const std::string& type) const {
  res.status = status;
  res.set_content(ErrorBody(message, type.empty() ? ErrorType(status) : type), "application/json");
}

bool HttpServer::Impl::PreRoute(const httplib::Request& req, httplib::Response& res) {
  if (!options.cors_origins.empty() && req.has_header("Origin")) {
    const std::string origin = req.get_header_value("Origin");
    for (const std::string& o : options.cors_origins) {
      if (o == "*" || o == origin) {
        res.set_header("Access-Control-Allow-Origin", o == "*" ? "*" : origin);
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Vary", "Origin");
        break;
      }
    }
  }
  if (req.method == "OPTIONS") {
    res.status = res.has_header("Access-Control-Allow-Origin") ? 204 : 403;
    return true;
  }
  const bool open_path = req.path == "/health" || req.path == "/" || req.path == "/index.html";
  if (!options.api_key.empty() && !open_path) {
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const bool ok =
        auth.compare(0, prefix.size(), prefix) == 0 && SecureEquals(auth.substr(prefix.size()), options.api_key);
    if (!ok) {
      res.set_header("WWW-Authenticate", "Bearer");
      Error(res, 401, "a valid API key is required (Authorization: Bearer KEY)", "");
      return true;
    }
  }
  if (model.load() == nullptr && req.path != "/health" && req.path != "/metrics" && !open_path) {
    res.set_header("Retry-After", "1");
    Error(res, 503, "the model is still loading", "server_error");
    return true;
  }
  return false;
}

void HttpServer::Impl::Generate(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
  const Model& m = *model.load();
  Scheduler& sched = *scheduler.load();
  if (JsonDepth(req.body, options.json_depth_limit) > options.json_depth_limit) {
    return Error(res, 400, "the body nests deeper than " + std::to_string(options.json_depth_limit) + " levels", "");
  }
  Result<ParsedRequest> parsed = ParseRequest(endpoint, req.body, m.info().vocab_size);
  if (!parsed.ok()) return Error(res, 400, parsed.status().message(), "");
  ParsedRequest& r = parsed.value();
  std::vector<int32_t> tokens;
  if (endpoint == Endpoint::kChat) {
    Result<ChatPrompt> p = RenderChatPrompt(m, r);
    if (!p.ok()) return Error(res, 400, p.status().message(), "");
    const std::string& bos = m.info().bos_token;
    const bool has_bos = !bos.empty() && p.value().text.compare(0, bos.size(), bos) == 0;
    tokens = m.Tokenize(p.value().text, /*add_special=*/!has_bos, /*parse_special=*/true);
    for (const std::string& s : p.value().stops) r.params.stop.push_back(s);
  } else if (r.has_prompt_tokens) {
    tokens = std::move(r.prompt_tokens);
  } else {
    tokens = m.Tokenize(r.prompt_text, /*add_special=*/true, /*parse_special=*/true);
  }
  if (tokens.empty()) return Error(res, 400, "the prompt is empty", "");
  if (static_cast<int>(tokens.size()) >= sched.ctx_len()) {
    return Error(res, 400,
                 "the prompt has " + std::to_string(tokens.size()) + " tokens; a slot's context holds " +
                     std::to_string(sched.ctx_len()) + " (prompt and reply together; see serve -c)",
                 "");
  }
  auto st = std::make_shared<StreamState>();
  st->channel = std::make_shared<RequestChannel>();
  st->stream = r.stream;
  st->include_usage = r.include_usage;
  st->ctx.endpoint = endpoint;
  st->ctx.id = NewId(endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-");
  st->ctx.model = options.model_name;
  st->ctx.created = Now();
  st->ctx.logprobs = r.logprobs;
  st->ctx.tokenizer = &m;
  Job job{std::move(tokens), std::move(r.params), st->channel};
  switch (sched.Submit(std::move(job))) {
    case SubmitResult::kQueued:
      break;
    case SubmitResult::kQueueFull:
      counters.rejected.fetch_add(1, std::memory_order_relaxed);
      res.set_header("Retry-After", "1");
      res.set_header("Connection", "close");  // frees this HTTP thread now, not after keep-alive
      return Error(res, 503, "every slot is busy and the queue is full; retry later", "server_error");
    case SubmitResult::kStopped:
      return Error(res, 503, "the server is shutting down", "server_error");
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      // "; charset=utf-8" also keeps httplib from compressing the chunked reply: its
      // compressors on the chunked path are not safe with several writers at once (seen
      // under ThreadSanitizer), and a reply of a few KB on loopback gains nothing.
      r.stream ? "text/event-stream" : "application/json; charset=utf-8",
      [st](size_t, httplib::DataSink& sink) { return Pump(*st, sink); },
      [st](bool) { st->channel->Cancel(); });  // finished or not, nobody reads any more
}

void HttpServer::Impl::Routes() {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return PreRoute(req, res) ? httplib::Server::HandlerResponse::Handled : httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status >= 400) {
      const std::string msg = res.status == 413
                                  ? "the body is larger than " + std::to_string(options.body_limit) + " bytes"
                              : res.status == 404 ? "no such endpoint"
                                                  : "HTTP error " + std::to_string(res.status);
      res.set_content(ErrorBody(msg, ErrorType(res.status)), "application/json");
    }
  });
  svr.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    Error(res, 500, what, "server_error");
  });
  svr.set_logger([this](const httplib::Request&, const httplib::Response& res) { counters.Count(res.status); });
  InfoRoutes();
  GenerateRoutes();
  TokenRoutes();
}

void HttpServer::Impl::InfoRoutes() {
  auto page = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(kWebPage, "text/html; charset=utf-8");
  };
  svr.Get("/", page);
  svr.Get("/index.html", page);
  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = model.load() != nullptr;
    res.status = ready ? 200 : 503;
    res.set_content(ready ? R"({"status":"ok"})" : R"({"status":"loading"})", "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(MetricsText(counters, model.load(), scheduler.load()), "text/plain; version=0.0.4");
  });
  auto models = [this](const httplib::Request&, httplib::Response& res) {
    const ModelInfo& info = model.load()->info();
    json entry = {{"id", options.model_name},
                  {"object", "model"},
                  {"created", started},
                  {"owned_by", "omnicoder"},
                  {"meta",
                   {{"arch", info.arch},
                    {"n_ctx_slot", scheduler.load()->ctx_len()},
                    {"n_ctx_train", info.ctx_len},
                    {"vocab_size", info.vocab_size},
                    {"n_experts", info.n_experts}}}};
    res.set_content(
        json{{"object", "list"}, {"data", json::array({entry})}}.dump(-1, ' ', false, json::error_handler_t::replace),
        "application/json");
  };
  svr.Get("/v1/models", models);
  svr.Get("/models", models);
}

void HttpServer::Impl::GenerateRoutes() {
  auto chat = [this](const httplib::Request& req, httplib::Response& res) { Generate(Endpoint::kChat, req, res); };
  auto completion = [this](const httplib::Request& req, httplib::Response& res) {
    Generate(Endpoint::kCompletion, req, res);
  };
  svr.Post("/v1/chat/completions", chat);
  svr.Post("/chat/completions", chat);
  svr.Post("/v1/completions", completion);
  svr.Post("/completions", completion);
}

void HttpServer::Impl::TokenRoutes() {
  svr.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    if (JsonDepth(req.body, options.json_depth_limit) > options.json_depth_limit) {
      return Error(res, 400, "the body nests too deep", "");
    }
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error(res, 400, "the body must be a JSON object", "");
    auto content = j.find("content");
    if (content == j.end() || !content->is_string()) return Error(res, 400, "'content' must be a string", "");
    bool add_special = false, parse_special = true;
    if (auto a = j.find("add_special"); a != j.end() && !a->is_null()) {
      if (!a->is_boolean()) return Error(res, 400, "'add_special' must be true or false", "");
      add_special = a->get<bool>();
    }
    if (auto p = j.find("parse_special"); p != j.end() && !p->is_null()) {
      if (!p->is_boolean()) return Error(res, 400, "'parse_special' must be true or false", "");
      parse_special = p->get<bool>();
    }
    const std::vector<int32_t> ids = model.load()->Tokenize(content->get<std::string>(), add_special, parse_special);
    res.set_content(json{{"tokens", ids}}.dump(), "application/json");
  });
  svr.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    if (JsonDepth(req.body, options.json_depth_limit) > options.json_depth_limit) {
      return Error(res, 400, "the body nests too deep", "");
    }
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error(res, 400, "the body must be a JSON object", "");
    auto tokens = j.find("tokens");
    if (tokens == j.end() || !tokens->is_array()) return Error(res, 400, "'tokens' must be an array of token ids", "");
    const int vocab = model.load()->info().vocab_size;
    std::vector<int32_t> ids;
    for (const json& t : *tokens) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= vocab) {
        return Error(res, 400, "'tokens' must hold ids in [0, " + std::to_string(vocab) + ")", "");
      }
      ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    res.set_content(
        json{{"content", model.load()->Detokenize(ids)}}.dump(-1, ' ', false, json::error_handler_t::replace),
        "application/json");
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Bind(const HttpOptions& options) {
  if (options.port < 0 || options.port > 65535) return InvalidArgument("--port must be in [0, 65535]");
  if (options.n_workers < 1) return InvalidArgument("the server needs at least one HTTP worker");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->started = Now();
  const size_t n_workers = static_cast<size_t>(options.n_workers);
  impl->svr.new_task_queue = [n_workers] { return new httplib::ThreadPool(n_workers); };
  impl->svr.set_payload_max_length(options.body_limit);
  impl->svr.set_read_timeout(options.timeout_seconds, 0);
  impl->svr.set_write_timeout(options.timeout_seconds, 0);
  impl->svr.set_keep_alive_timeout(2);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second server
  // share a port that is in use instead of failing.
  int listen_fd = -1;
  impl->svr.set_socket_options([&listen_fd](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  impl->Routes();
  int port = options.port;
  if (port == 0) {
    port = impl->svr.bind_to_any_port(options.host);
    if (port < 0) port = 0;
  } else if (!impl->svr.bind_to_port(options.host, port)) {
    port = 0;
  }
  if (port <= 0) {
    return IoError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                   " (address in use, not local, or not permitted)");
  }
  impl->port = port;
  // httplib listens with a backlog of 5: a burst of clients would wait for SYN retries
  // (a second or more). Listening again on the same socket only raises the backlog.
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  impl->svr.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const {
  return impl_->port;
}

void HttpServer::Start() {
  impl_->thread = std::thread([this] { impl_->svr.listen_after_bind(); });
}

void HttpServer::SetReady(const Model* model, Scheduler* scheduler) {
  impl_->scheduler.store(scheduler);
  impl_->model.store(model);
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->svr.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace omnicoder::server
