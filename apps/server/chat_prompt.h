// A chat request's messages as the model's prompt: the file's own chat template, or ChatML
// when it has none.
#pragma once

#include <string>
#include <vector>

#include "apps/server/request.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

struct ChatPrompt {
  std::string text;
  std::vector<std::string> stops;  // ends of a turn the template marks with plain text
  std::string template_name;       // "gguf" or "chatml"
};

// A template that cannot render the conversation (its own raise_exception included) is an
// InvalidArgument with the template's message: the request gets a 400, never other text.
Result<ChatPrompt> RenderChatPrompt(const Model& model, const ParsedRequest& request);

}  // namespace omnicoder::server
