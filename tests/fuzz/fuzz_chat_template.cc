// libFuzzer target: arbitrary bytes as a chat template, rendered with a small conversation
// under tight limits: any input must end in text or an error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/jinja/template.h"

using namespace omnicoder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char kContext[] =
      R"({"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi \u00e9"},)"
      R"( {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}],)"
      R"( "tools": [{"type": "function", "function": {"name": "f"}}], "add_generation_prompt": true,)"
      R"( "bos_token": "<s>", "eos_token": "</s>", "budget": {"1": 2, "3": [4.5, null, true]}})";
  jinja::RenderOptions options;
  options.now = 1767225600;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_steps = 200000;
  options.limits.max_call_depth = 50;
  Result<std::string> out =
      jinja::Render(std::string_view(reinterpret_cast<const char*>(data), size), std::string_view(kContext), options);
  (void)out;
  return 0;
}
