// Small HTTP helpers for the server tests: JSON posts, SSE streams, and the server under test.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace omnicoder::testing {

using nlohmann::json;

inline const std::string kNano = std::string(OC_SOURCE_DIR) + "/models/omnicoder-nano.gguf";

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
  json Json() const { return json::parse(body, nullptr, false); }
};

inline Reply Post(int port, const std::string& path, const std::string& body, const httplib::Headers& headers = {}) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);
  auto r = c.Post(path, headers, body, "application/json");
  if (!r) return {0, "client error " + std::to_string(static_cast<int>(r.error())), {}};
  return {r->status, r->body, r->headers};
}

inline Reply Get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto r = c.Get(path, headers);
  if (!r) return {};
  return {r->status, r->body, r->headers};
}

// The "data:" payloads of an SSE response, in order.
inline std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    out.push_back(body.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6));
    at = end == std::string::npos ? body.size() : end;
  }
  return out;
}

// A metric's value from /metrics (-1 if absent).
inline double Metric(int port, const std::string& name) {
  const Reply r = Get(port, "/metrics");
  const std::string key = "\n" + name + " ";
  const size_t at = r.body.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + key.size()));
}

}  // namespace omnicoder::testing
