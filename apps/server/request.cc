#include "apps/server/request.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace omnicoder::server {

using nlohmann::json;

int JsonDepth(const std::string& body, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return limit + 1;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

namespace {

Status Bad(const std::string& field, const std::string& what) {
  return InvalidArgument("'" + field + "' " + what);
}

// A number field within [lo, hi]; absent or null leaves *out unchanged.
Status GetNumber(const json& j, const char* field, double lo, double hi, float* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return Bad(field, "must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return Bad(field, "must be in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
  }
  *out = static_cast<float>(v);
  return Status::Ok();
}

Status GetInt(const json& j, const char* field, int64_t lo, int64_t hi, int64_t* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return Bad(field, "must be an integer");
  const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                        ? INT64_MAX
                        : it->get<int64_t>();
  if (v < lo || v > hi) return Bad(field, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = v;
  return Status::Ok();
}

Status GetBool(const json& j, const char* field, bool* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return Bad(field, "must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

// Message content: a string, null, or a list of {"type": "text", "text": ...} parts.
Status ContentText(const json& content, const std::string& field, std::string* out) {
  if (content.is_null()) return Status::Ok();
  if (content.is_string()) {
    *out = content.get<std::string>();
    return Status::Ok();
  }
  if (!content.is_array()) return Bad(field, "must be a string or an array of content parts");
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string pf = field + "[" + std::to_string(i) + "]";
    if (!part.is_object()) return Bad(pf, "must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return Bad(pf + ".type", "must be a string");
    if (*type != "text") return Bad(pf + ".type", "'" + type->get<std::string>() + "' is not supported (only text)");
    auto text = part.find("text");
    if (text == part.end() || !text->is_string()) return Bad(pf + ".text", "must be a string");
    *out += text->get<std::string>();
  }
  return Status::Ok();
}

Status ParseMessages(const json& j, ParsedRequest* r) {
  auto it = j.find("messages");
  if (it == j.end()) return Bad("messages", "is required");
  if (!it->is_array() || it->empty()) return Bad("messages", "must be a non-empty array");
  json template_messages = json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string f = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Bad(f, "must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return Bad(f + ".role", "must be a string");
    const std::string rs = role->get<std::string>();
    if (rs != "system" && rs != "developer" && rs != "user" && rs != "assistant" && rs != "tool") {
      return Bad(f + ".role", "'" + rs + "' is not a role (system, developer, user, assistant, tool)");
    }
    ChatMessage msg;
    msg.role = rs;
    auto content = m.find("content");
    const bool has_tool_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (content == m.end() || content->is_null()) {
      if (!(rs == "assistant" && has_tool_calls)) return Bad(f + ".content", "is required");
    } else {
      OC_RETURN_IF_ERROR(ContentText(*content, f + ".content", &msg.content));
    }
    if (has_tool_calls && !m["tool_calls"].is_array()) return Bad(f + ".tool_calls", "must be an array");
    json tm = m;
    if (content != m.end() && content->is_array()) tm["content"] = msg.content;
    if (has_tool_calls) {
      for (json& call : tm["tool_calls"]) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
        json& fn = call["function"];
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          json args = json::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (!args.is_discarded() && args.is_object()) fn["arguments"] = args;
        }
      }
    }
    template_messages.push_back(std::move(tm));
    r->messages.push_back(std::move(msg));
  }
  r->messages_json = template_messages.dump(-1, ' ', false, json::error_handler_t::replace);
  if (auto kw = j.find("chat_template_kwargs"); kw != j.end() && !kw->is_null()) {
    if (!kw->is_object()) return Bad("chat_template_kwargs", "must be an object");
    r->template_kwargs_json = kw->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (auto tools = j.find("tools"); tools != j.end() && !tools->is_null()) {
    if (!tools->is_array()) return Bad("tools", "must be an array");
    r->tools_json = tools->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return Status::Ok();
}

Status ParsePrompt(const json& j, int vocab_size, ParsedRequest* r) {
  auto it = j.find("prompt");
  if (it == j.end() || it->is_null()) return Bad("prompt", "is required");
  const json* p = &*it;
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];  // ["text"]
  if (p->is_string()) {
    r->prompt_text = p->get<std::string>();
    return Status::Ok();
  }
  if (p->is_array() && !p->empty() && p->at(0).is_array()) {
    return Bad("prompt", "holds several prompts; send one per request");
  }
  if (!p->is_array()) return Bad("prompt", "must be a string, [string] or an array of token ids");
  for (const json& t : *p) {
    if (!t.is_number_integer()) return Bad("prompt", "must be a string, [string] or an array of token ids");
    const int64_t id = t.get<int64_t>();
    if (id < 0 || id >= vocab_size) {
      return Bad("prompt", "holds token " + std::to_string(id) + ", outside [0, " + std::to_string(vocab_size) + ")");
    }
    r->prompt_tokens.push_back(static_cast<int32_t>(id));
  }
  r->has_prompt_tokens = true;
  return Status::Ok();
}

Status ParseStop(const json& j, std::vector<std::string>* out) {
  auto it = j.find("stop");
  if (it == j.end() || it->is_null()) return Status::Ok();
  constexpr size_t kMaxStops = 16, kMaxStopBytes = 256;
  if (it->is_string()) {
    out->push_back(it->get<std::string>());
  } else if (it->is_array()) {
    if (it->size() > kMaxStops) return Bad("stop", "may hold at most 16 strings");
    for (const json& s : *it) {
      if (!s.is_string()) return Bad("stop", "must be a string or an array of strings");
      out->push_back(s.get<std::string>());
    }
  } else {
    return Bad("stop", "must be a string or an array of strings");
  }
  for (const std::string& s : *out) {
    if (s.size() > kMaxStopBytes) return Bad("stop", "strings must be at most 256 bytes");
  }
  return Status::Ok();
}

// logprobs: chat takes a bool plus top_logprobs (0-20); completions take an int (0-5).
Status ParseLogprobs(const json& j, Endpoint endpoint, ParsedRequest* r) {
  GenerationParams& g = r->params;
  if (endpoint == Endpoint::kChat) {
    OC_RETURN_IF_ERROR(GetBool(j, "logprobs", &r->logprobs));
    int64_t top = 0;
    OC_RETURN_IF_ERROR(GetInt(j, "top_logprobs", 0, 20, &top));
    if (j.contains("top_logprobs") && !j["top_logprobs"].is_null() && !r->logprobs) {
      return Bad("top_logprobs", "needs 'logprobs': true");
    }
    g.top_logprobs = r->logprobs ? static_cast<int>(top) : -1;
  } else {
    int64_t top = -1;
    OC_RETURN_IF_ERROR(GetInt(j, "logprobs", 0, 5, &top));
    r->logprobs = top >= 0;
    g.top_logprobs = static_cast<int>(top);
    bool echo = false;
    OC_RETURN_IF_ERROR(GetBool(j, "echo", &echo));
    if (echo) return Bad("echo", "is not supported");
    if (j.contains("suffix") && !j["suffix"].is_null()) return Bad("suffix", "is not supported");
    int64_t best_of = 1;
    OC_RETURN_IF_ERROR(GetInt(j, "best_of", 1, 1, &best_of));
  }
  return Status::Ok();
}

Status ParseSampling(const json& j, Endpoint endpoint, ParsedRequest* r) {
  GenerationParams& g = r->params;
  SamplerOptions& s = g.sampling;
  // OpenAI's defaults: temperature 1, top_p 1, no top-k / min-p cut.
  s.temperature = 1.0f;
  s.top_p = 1.0f;
  s.top_k = 0;
  s.min_p = 0.0f;
  OC_RETURN_IF_ERROR(GetNumber(j, "temperature", 0, 2, &s.temperature));
  OC_RETURN_IF_ERROR(GetNumber(j, "top_p", std::numeric_limits<float>::min(), 1, &s.top_p));
  OC_RETURN_IF_ERROR(GetNumber(j, "min_p", 0, 1, &s.min_p));
  OC_RETURN_IF_ERROR(GetNumber(j, "repeat_penalty", std::numeric_limits<float>::min(), 100, &s.repeat_penalty));
  OC_RETURN_IF_ERROR(GetNumber(j, "presence_penalty", -2, 2, &g.presence_penalty));
  OC_RETURN_IF_ERROR(GetNumber(j, "frequency_penalty", -2, 2, &g.frequency_penalty));
  int64_t v = s.top_k;
  OC_RETURN_IF_ERROR(GetInt(j, "top_k", 0, 1 << 30, &v));
  s.top_k = static_cast<int>(v);
  int64_t seed = -1;
  OC_RETURN_IF_ERROR(GetInt(j, "seed", INT64_MIN, INT64_MAX, &seed));
  if (j.contains("seed") && !j["seed"].is_null()) {
    s.seed = static_cast<uint64_t>(seed);
  } else {
    std::random_device rd;
    s.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  int64_t max_tokens = 0;
  OC_RETURN_IF_ERROR(GetInt(j, "max_tokens", 1, 1 << 30, &max_tokens));
  OC_RETURN_IF_ERROR(GetInt(j, "max_completion_tokens", 1, 1 << 30, &max_tokens));
  g.max_tokens = static_cast<int>(max_tokens);
  int64_t n = 1;
  OC_RETURN_IF_ERROR(GetInt(j, "n", 1, 1, &n));
  OC_RETURN_IF_ERROR(ParseStop(j, &g.stop));
  OC_RETURN_IF_ERROR(ParseLogprobs(j, endpoint, r));
  OC_RETURN_IF_ERROR(GetBool(j, "stream", &r->stream));
  if (auto so = j.find("stream_options"); so != j.end() && !so->is_null()) {
    if (!so->is_object()) return Bad("stream_options", "must be an object");
    OC_RETURN_IF_ERROR(GetBool(*so, "include_usage", &r->include_usage));
  }
  if (auto rf = j.find("response_format"); rf != j.end() && !rf->is_null()) {
    if (!rf->is_object() || !rf->contains("type") || (*rf)["type"] != "text") {
      return Bad("response_format", "only {\"type\": \"text\"} is supported");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedRequest> ParseRequest(Endpoint endpoint, const std::string& body, int vocab_size) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the body is not valid JSON (UTF-8)");
  if (!j.is_object()) return InvalidArgument("the body must be a JSON object");
  ParsedRequest r;
  r.endpoint = endpoint;
  if (auto m = j.find("model"); m != j.end() && !m->is_null() && !m->is_string()) {
    return Bad("model", "must be a string");
  }
  if (endpoint == Endpoint::kChat) {
    OC_RETURN_IF_ERROR(ParseMessages(j, &r));
  } else {
    OC_RETURN_IF_ERROR(ParsePrompt(j, vocab_size, &r));
  }
  OC_RETURN_IF_ERROR(ParseSampling(j, endpoint, &r));
  return r;
}

}  // namespace omnicoder::server
