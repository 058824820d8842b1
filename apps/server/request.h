// OpenAI-shaped request bodies parsed and range-checked into what the scheduler needs.
// Every problem is an InvalidArgument whose message names the field (sent back as a 400).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/server/scheduler.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

enum class Endpoint { kChat, kCompletion };

struct ChatMessage {
  std::string role;     // system, developer, user, assistant, tool
  std::string content;  // text parts joined
};

struct ParsedRequest {
  Endpoint endpoint = Endpoint::kChat;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  GenerationParams params;
  // kChat: the messages and tools (JSON text, "" without); kCompletion: the prompt.
  std::vector<ChatMessage> messages;
  // What the chat template sees: the messages with content parts joined into text and
  // tool-call arguments sent as JSON text parsed into objects; tools; chat_template_kwargs.
  std::string messages_json;
  std::string tools_json;
  std::string template_kwargs_json;
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;  // a completion prompt given as token ids
  bool has_prompt_tokens = false;
};

// Parses a request body (already checked for size and nesting depth). `vocab_size` bounds
// token ids.
Result<ParsedRequest> ParseRequest(Endpoint endpoint, const std::string& body, int vocab_size);

// How deep `body` nests arrays and objects (strings are skipped); stops counting past
// `limit` (returns limit + 1).
int JsonDepth(const std::string& body, int limit);

}  // namespace omnicoder::server
