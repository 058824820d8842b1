// Turns generated token pieces into text that is safe to send: stop strings are matched
// across token boundaries (text that may still become a stop string is held back) and
// an incomplete UTF-8 sequence at the end is held until its last byte arrives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace omnicoder::server {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stops);
  // Adds a token's bytes. Returns the text that became safe to send; sets *stopped when
  // a stop string appeared (the text up to it is returned, the stop and the rest dropped).
  std::string Push(std::string_view piece, bool* stopped);
  // End of generation without a stop: everything held back (invalid UTF-8 replaced).
  std::string Flush();

 private:
  size_t HoldBack() const;
  std::vector<std::string> stops_;
  std::string text_;
  size_t sent_ = 0;
};

// Bytes at the end of `s` that start a UTF-8 sequence not yet complete (0-3).
size_t IncompleteUtf8Tail(std::string_view s);
// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

}  // namespace omnicoder::server
