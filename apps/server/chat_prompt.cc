#include "apps/server/chat_prompt.h"

namespace omnicoder::server {

Result<ChatPrompt> RenderChatPrompt(const Model& model, const std::vector<ChatMessage>& messages,
                                    const std::string& tools_json) {
  ChatPrompt p;
  // ChatML: <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n
  p.template_name = "chatml";
  for (const ChatMessage& m : messages) p.text += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  p.text += "<|im_start|>assistant\n";
  p.stops = {"<|im_end|>", "<|im_start|>"};
  (void)model;
  (void)tools_json;
  return p;
}

}  // namespace omnicoder::server
