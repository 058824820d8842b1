#include "apps/server/chat_prompt.h"

namespace omnicoder::server {

Result<ChatPrompt> RenderChatPrompt(const Model& model, const ParsedRequest& r) {
  ChatPrompt p;
  const ModelInfo& info = model.info();
  if (info.chat_template.empty()) {
    // ChatML: <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n
    p.template_name = "chatml";
    for (const ChatMessage& m : r.messages) p.text += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    p.text += "<|im_start|>assistant\n";
    p.stops = {"<|im_end|>", "<|im_start|>"};  // plain text in vocabularies without them
    return p;
  }
  ChatTemplateInput in;
  in.messages_json = r.messages_json;
  in.tools_json = r.tools_json;
  in.add_generation_prompt = true;
  in.bos_token = info.bos_token;
  in.eos_token = info.eos_token;
  in.extra_json = r.template_kwargs_json;
  Result<std::string> text = RenderChatTemplate(info.chat_template, in);
  if (!text.ok()) {
    return InvalidArgument("the model's chat template cannot render this conversation: " + text.status().message());
  }
  p.text = std::move(text).value();
  p.template_name = "gguf";
  return p;
}

}  // namespace omnicoder::server
