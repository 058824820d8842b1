// Small string helpers shared by parsers and messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace omnicoder {

// printf into a std::string.
std::string StrFormat(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// "1.5 GiB", "320.0 MiB", "12 B".
std::string HumanBytes(uint64_t bytes);
// Quotes and escapes a possibly binary string for an error message (truncated to max_len).
std::string QuoteForMessage(std::string_view s, size_t max_len = 64);
// s without leading and trailing blanks (space, tab, CR).
std::string Trim(std::string_view s);
// The non-blank lines of a config-like text with '#' comments cut off, each with its
// 1-based line number (for messages).
std::vector<std::pair<int, std::string>> ContentLines(std::string_view text);

}  // namespace omnicoder
