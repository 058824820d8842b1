// OpenAI response bodies: whole completions, streaming chunks, usage, logprobs and error
// objects. Text that is not valid UTF-8 is sent with U+FFFD in its place.
#pragma once

#include <string>
#include <vector>

#include "apps/server/channel.h"
#include "apps/server/request.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

struct ResponseContext {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;     // chatcmpl-... / cmpl-...
  std::string model;  // the name /v1/models lists
  int64_t created = 0;
  bool logprobs = false;
  const Model* tokenizer = nullptr;  // token texts for logprobs
};

// A whole (non-streaming) completion.
std::string CompletionBody(const ResponseContext& c, const std::string& text, const std::vector<TokenLogprob>& lps,
                           const StreamEvent& last);
// One "data: {...}\n\n" SSE chunk: a text delta (first: with the assistant role), the
// finish chunk, or the usage chunk.
std::string DeltaChunk(const ResponseContext& c, const StreamEvent& e, bool first);
std::string FinishChunk(const ResponseContext& c, const StreamEvent& last);
std::string UsageChunk(const ResponseContext& c, const StreamEvent& last);
// {"error": {"message", "type", "param", "code"}}.
std::string ErrorBody(const std::string& message, const std::string& type, const std::string& code = "");
// A new id: prefix + 24 hex digits.
std::string NewId(const std::string& prefix);

}  // namespace omnicoder::server
