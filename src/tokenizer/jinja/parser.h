// Jinja parser: tokens from the lexer -> statements and expressions, with Jinja2's
// operator precedence (filters and tests bind tighter than arithmetic).
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "tokenizer/jinja/ast.h"

namespace omnicoder::jinja {

Result<std::shared_ptr<const Template>> ParseTemplate(std::string_view source);

}  // namespace omnicoder::jinja
