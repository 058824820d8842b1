// Jinja lexer with Hugging Face's settings: trim_blocks and lstrip_blocks on, '-' and '+'
// whitespace control, one trailing newline dropped, line endings normalized to "\n".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace omnicoder::jinja {

enum class Tok {
  kText,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // value already unescaped
  kInt,
  kFloat,
  kOp,  // ( ) [ ] { } . , : | ~ + - * / // % ** == != < > <= >= =
  kEof,
};

struct Token {
  Tok type = Tok::kEof;
  std::string text;
  int line = 1;
};

Result<std::vector<Token>> Lex(std::string_view source);

}  // namespace omnicoder::jinja
