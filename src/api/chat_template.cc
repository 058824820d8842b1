// RenderChatTemplate: the public face of the tokenizer layer's Jinja engine.
#include <ctime>

#include "omnicoder/omnicoder.h"
#include "tokenizer/jinja/template.h"

namespace omnicoder {

Result<std::string> RenderChatTemplate(std::string_view source, const ChatTemplateInput& input) {
  using jinja::Value;
  auto ctx = std::make_shared<jinja::Dict>();
  if (!input.messages_json.empty()) {  // else extra_json carries them
    Result<Value> messages = jinja::ParseJson(input.messages_json);
    if (!messages.ok() || !messages.value().is_list()) {
      return InvalidArgument("chat template: the messages must be a JSON array");
    }
    ctx->Set("messages", messages.value());
  }
  // transformers passes tools (and documents) always: None when there are none.
  ctx->Set("tools", Value::None());
  ctx->Set("documents", Value::None());
  if (!input.tools_json.empty()) {
    Result<Value> tools = jinja::ParseJson(input.tools_json);
    if (!tools.ok() || !tools.value().is_list())
      return InvalidArgument("chat template: the tools must be a JSON array");
    ctx->Set("tools", tools.value());
  }
  ctx->Set("add_generation_prompt", Value(input.add_generation_prompt));
  ctx->Set("bos_token", Value(input.bos_token));
  ctx->Set("eos_token", Value(input.eos_token));
  if (!input.extra_json.empty()) {
    Result<Value> extra = jinja::ParseJson(input.extra_json);
    if (!extra.ok() || !extra.value().is_dict())
      return InvalidArgument("chat template: extra variables must be a JSON object");
    for (const auto& [k, v] : extra.value().dict().items) ctx->Set(k, v);
  }
  const jinja::Value* m = ctx->Find("messages");
  if (!m || !m->is_list()) return InvalidArgument("chat template: the messages must be a JSON array");
  jinja::RenderOptions options;
  options.now = input.now >= 0 ? input.now : static_cast<int64_t>(std::time(nullptr));
  Result<std::string> out = jinja::Render(source, Value(ctx), options);
  if (!out.ok()) return InvalidArgument("chat template: " + out.status().message());
  return out;
}

}  // namespace omnicoder
