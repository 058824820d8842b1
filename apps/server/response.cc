#include "apps/server/response.h"

#include <nlohmann/json.hpp>
#include <random>

#include "apps/server/text_stream.h"

namespace omnicoder::server {

using nlohmann::json;

namespace {

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json Usage(const StreamEvent& e) {
  return {{"prompt_tokens", e.prompt_tokens},
          {"completion_tokens", e.completion_tokens},
          {"total_tokens", e.prompt_tokens + e.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", e.cached_tokens}}}};
}

json Bytes(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// Chat: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}.
json ChatLogprobs(const ResponseContext& c, const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    const std::string piece = c.tokenizer->TokenToPiece(lp.token);
    json top = json::array();
    for (const auto& [id, v] : lp.top) {
      const std::string p = c.tokenizer->TokenToPiece(id);
      top.push_back({{"token", SanitizeUtf8(p)}, {"logprob", v}, {"bytes", Bytes(p)}});
    }
    content.push_back(
        {{"token", SanitizeUtf8(piece)}, {"logprob", lp.logprob}, {"bytes", Bytes(piece)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

// Completions: {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}.
json CompletionLogprobs(const ResponseContext& c, const std::vector<TokenLogprob>& lps, size_t offset) {
  json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
  for (const TokenLogprob& lp : lps) {
    const std::string piece = c.tokenizer->TokenToPiece(lp.token);
    tokens.push_back(SanitizeUtf8(piece));
    values.push_back(lp.logprob);
    json top = json::object();
    for (const auto& [id, v] : lp.top) top[SanitizeUtf8(c.tokenizer->TokenToPiece(id))] = v;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += piece.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json Envelope(const ResponseContext& c, bool chunk) {
  const bool chat = c.endpoint == Endpoint::kChat;
  return {{"id", c.id},
          {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
          {"created", c.created},
          {"model", c.model},
          {"system_fingerprint", "omnicoder-" + Version()}};
}

json Logprobs(const ResponseContext& c, const std::vector<TokenLogprob>& lps) {
  if (!c.logprobs) return nullptr;
  return c.endpoint == Endpoint::kChat ? ChatLogprobs(c, lps) : CompletionLogprobs(c, lps, 0);
}

json FinishValue(const StreamEvent& e) {
  return e.finish == FinishReason::kNone ? json(nullptr) : json(FinishReasonName(e.finish));
}

}  // namespace

std::string CompletionBody(const ResponseContext& c, const std::string& text, const std::vector<TokenLogprob>& lps,
                           const StreamEvent& last) {
  json j = Envelope(c, false);
  json choice = {{"index", 0}, {"logprobs", Logprobs(c, lps)}, {"finish_reason", FinishValue(last)}};
  if (c.endpoint == Endpoint::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  j["usage"] = Usage(last);
  return Dump(j);
}

std::string DeltaChunk(const ResponseContext& c, const StreamEvent& e, bool first) {
  json j = Envelope(c, true);
  json choice = {{"index", 0}, {"logprobs", Logprobs(c, e.logprobs)}, {"finish_reason", nullptr}};
  if (c.endpoint == Endpoint::kChat) {
    json delta = {{"content", e.text}};
    if (first) delta["role"] = "assistant";
    choice["delta"] = delta;
  } else {
    choice["text"] = e.text;
  }
  j["choices"] = json::array({choice});
  return "data: " + Dump(j) + "\n\n";
}

std::string FinishChunk(const ResponseContext& c, const StreamEvent& last) {
  json j = Envelope(c, true);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", FinishValue(last)}};
  if (c.endpoint == Endpoint::kChat) {
    choice["delta"] = json::object();
  } else {
    choice["text"] = "";
  }
  j["choices"] = json::array({choice});
  return "data: " + Dump(j) + "\n\n";
}

std::string UsageChunk(const ResponseContext& c, const StreamEvent& last) {
  json j = Envelope(c, true);
  j["choices"] = json::array();
  j["usage"] = Usage(last);
  return "data: " + Dump(j) + "\n\n";
}

std::string ErrorBody(const std::string& message, const std::string& type, const std::string& code) {
  json err = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!code.empty()) err["code"] = code;
  return Dump(json{{"error", err}});
}

std::string NewId(const std::string& prefix) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

}  // namespace omnicoder::server
