#include "apps/server/text_stream.h"

#include <algorithm>

namespace omnicoder::server {

namespace {

// Length of the UTF-8 sequence a lead byte starts (0: not a lead byte).
int SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Length of the valid sequence at s[i] (0: invalid there).
size_t ValidAt(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const int n = SequenceLength(c);
  if (n == 0 || i + n > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  const unsigned char c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
  if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
  if (c == 0xED && c1 > 0x9F) return 0;  // surrogate
  if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
  return static_cast<size_t>(n);
}

}  // namespace

size_t IncompleteUtf8Tail(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking
    const int n = SequenceLength(c);
    return n > static_cast<int>(back) ? back : 0;
  }
  return 0;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = ValidAt(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

TextStream::TextStream(std::vector<std::string> stops) : stops_(std::move(stops)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

size_t TextStream::HoldBack() const {
  // The longest suffix of the unsent text that is a proper prefix of a stop string.
  const std::string_view unsent = std::string_view(text_).substr(sent_);
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    for (size_t n = std::min(stop.size() - 1, unsent.size()); n > hold; --n) {
      if (unsent.substr(unsent.size() - n) == std::string_view(stop).substr(0, n)) {
        hold = n;
        break;
      }
    }
  }
  return std::max(hold, IncompleteUtf8Tail(unsent));
}

std::string TextStream::Push(std::string_view piece, bool* stopped) {
  *stopped = false;
  text_.append(piece);
  // A stop string cannot begin in text already sent: that text was never a prefix of one.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) {
    const size_t at = text_.find(stop, sent_);
    if (at < first) first = at;
  }
  if (first != std::string::npos) {
    *stopped = true;
    std::string out = SanitizeUtf8(std::string_view(text_).substr(sent_, first - sent_));
    text_.resize(first);
    sent_ = first;
    return out;
  }
  const size_t end = text_.size() - HoldBack();
  std::string out = end > sent_ ? SanitizeUtf8(std::string_view(text_).substr(sent_, end - sent_)) : std::string();
  sent_ = std::max(sent_, end);
  return out;
}

std::string TextStream::Flush() {
  std::string out = SanitizeUtf8(std::string_view(text_).substr(sent_));
  sent_ = text_.size();
  return out;
}

}  // namespace omnicoder::server
