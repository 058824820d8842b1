// `omnicoder chat-template`: renders a model's (or a file's) chat template for a
// conversation, byte for byte what the server would feed the model.
#include <cstdio>

#include "apps/cli/commands.h"
#include "apps/cli/common.h"
#include "apps/cli/validate.h"

namespace omnicoder::cli {

int ChatTemplateCommand(const ChatTemplateCliOptions& o) {
  std::string source;
  ChatTemplateInput in;
  if (!o.model.empty()) {
    Result<std::unique_ptr<Engine>> e = Engine::Create({});
    if (!e.ok()) return PrintError("engine", e.status()), 1;
    LoadOptions lo;
    lo.vocab_only = true;
    Result<std::unique_ptr<Model>> m = Model::Load(*e.value(), o.model, lo);
    if (!m.ok()) return PrintError(o.model, m.status()), 1;
    source = m.value()->info().chat_template;
    in.bos_token = m.value()->info().bos_token;
    in.eos_token = m.value()->info().eos_token;
    if (source.empty()) {
      std::fprintf(stderr, "omnicoder: %s has no tokenizer.chat_template\n", o.model.c_str());
      return 1;
    }
  } else if (o.template_file.empty() || !ReadTextInput(o.template_file, "template", &source)) {
    if (o.template_file.empty()) std::fprintf(stderr, "omnicoder: give --template FILE or -m MODEL\n");
    return 2;
  }
  std::string context;
  if (!ReadTextInput(o.context_file, "context", &context)) return 2;
  size_t first = context.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && context[first] == '[') {
    in.messages_json = context;
  } else {
    // An object: the library splits it (messages and tools are checked there).
    in.messages_json = "";
    in.extra_json = context;
  }
  in.now = o.now;
  Result<std::string> out = RenderChatTemplate(source, in);
  if (!out.ok()) {
    std::fprintf(stderr, "omnicoder: %s\n", out.status().message().c_str());
    return 1;
  }
  std::fwrite(out.value().data(), 1, out.value().size(), stdout);
  return 0;
}

}  // namespace omnicoder::cli
