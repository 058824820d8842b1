// Rendering a chat template the way Hugging Face's apply_chat_template does (Jinja2,
// trim_blocks + lstrip_blocks, immutable sandbox, its tojson / raise_exception /
// strftime_now) from JSON context variables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/jinja/interp.h"

namespace omnicoder::jinja {

struct RenderOptions {
  int64_t now = 0;  // strftime_now's time (unix seconds)
  RenderLimits limits;
};

// `context_json` is a JSON object whose keys become the template's variables. Errors
// (syntax, an undefined value used, raise_exception) carry the template line; a
// raise_exception message is returned as "raise_exception: MESSAGE".
Result<std::string> Render(std::string_view source, std::string_view context_json, const RenderOptions& options);
// The same with the variables as a dict value.
Result<std::string> Render(std::string_view source, const Value& context, const RenderOptions& options);

}  // namespace omnicoder::jinja
