#include "tokenizer/jinja/lexer.h"

#include <cctype>

#include "tokenizer/jinja/utf8.h"

namespace omnicoder::jinja {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string Normalize(std::string_view src) {
  std::string s;
  s.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      s += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      s += src[i];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();  // keep_trailing_newline=False
  return s;
}

class Lexer {
 public:
  explicit Lexer(std::string s) : s_(std::move(s)) {}

  Result<std::vector<Token>> Run() {
    bool strip_next = false;    // the previous tag ended with '-'
    bool line_starting = true;  // the text begins a line (lstrip_blocks)
    while (pos_ < s_.size()) {
      const size_t tag = FindTag(pos_);
      std::string text = s_.substr(pos_, tag - pos_);
      if (strip_next) {  // '-' closed the previous tag: it took this whitespace
        size_t k = 0;
        while (k < text.size() && IsSpace(text[k])) ++k;
        if (k > 0) line_starting = text[k - 1] == '\n';
        text.erase(0, k);
      }
      if (tag < s_.size()) {
        const char kind = s_[tag + 1];
        const char mod = tag + 2 < s_.size() ? s_[tag + 2] : 0;
        if (mod == '-') {
          while (!text.empty() && IsSpace(text.back())) text.pop_back();
        } else if (kind != '{' && mod != '+') {
          LstripBlock(&text, line_starting);
        }
      }
      Advance(pos_, pos_ + (tag - pos_));
      if (!text.empty()) Emit(Tok::kText, text);
      pos_ = tag;
      if (pos_ >= s_.size()) break;
      const char kind = s_[pos_ + 1];
      pos_ += 2;
      if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
      Status st = kind == '#' ? Comment(&strip_next) : Tag(kind, &strip_next);
      if (!st.ok()) return st;
      line_starting = pos_ > 0 && s_[pos_ - 1] == '\n';
    }
    Emit(Tok::kEof, "");
    return std::move(tokens_);
  }

 private:
  // lstrip_blocks: spaces and tabs between the line's start and a block or comment tag go.
  static void LstripBlock(std::string* text, bool line_starting) {
    const size_t nl = text->rfind('\n');
    const size_t from = nl == std::string::npos ? 0 : nl + 1;
    if (nl == std::string::npos && !line_starting) return;
    for (size_t k = from; k < text->size(); ++k) {
      if ((*text)[k] != ' ' && (*text)[k] != '\t') return;
    }
    text->resize(from);
  }

  size_t FindTag(size_t from) const {
    for (size_t i = from; i + 1 < s_.size(); ++i) {
      if (s_[i] == '{' && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
    }
    return s_.size();
  }

  void Advance(size_t from, size_t to) {
    for (size_t i = from; i < to && i < s_.size(); ++i) line_ += s_[i] == '\n';
  }

  void Emit(Tok t, std::string text) { tokens_.push_back({t, std::move(text), line_}); }

  // After a block or comment end: '-' strips all following whitespace; otherwise
  // trim_blocks drops one newline (not after '+').
  void AfterBlockEnd(bool dash, bool plus, bool* strip_next) {
    *strip_next = dash;
    if (!dash && !plus && pos_ < s_.size() && s_[pos_] == '\n') {
      ++line_;
      ++pos_;
    }
  }

  Status Comment(bool* strip_next) {
    const size_t end = s_.find("#}", pos_);
    if (end == std::string::npos) return InvalidArgument("line " + std::to_string(line_) + ": unclosed comment");
    const bool dash = end > pos_ && s_[end - 1] == '-';
    const bool plus = end > pos_ && s_[end - 1] == '+';
    Advance(pos_, end + 2);
    pos_ = end + 2;
    AfterBlockEnd(dash, plus, strip_next);
    return Status::Ok();
  }

  Status Tag(char kind, bool* strip_next) {
    Emit(kind == '{' ? Tok::kVarBegin : Tok::kBlockBegin, "");
    const char close = kind == '{' ? '}' : '%';
    int depth = 0;  // brackets open inside the tag: '}}' there closes a dict, not the tag
    for (;;) {
      while (pos_ < s_.size() && IsSpace(s_[pos_])) {
        line_ += s_[pos_] == '\n';
        ++pos_;
      }
      if (pos_ >= s_.size()) return InvalidArgument("line " + std::to_string(line_) + ": unclosed tag");
      const bool dash = s_[pos_] == '-' && s_.compare(pos_ + 1, 2, std::string{close, '}'}) == 0;
      const bool plus = s_[pos_] == '+' && s_.compare(pos_ + 1, 2, std::string{close, '}'}) == 0;
      if (depth == 0 && (dash || plus || s_.compare(pos_, 2, std::string{close, '}'}) == 0)) {
        pos_ += (dash || plus) ? 3 : 2;
        Emit(kind == '{' ? Tok::kVarEnd : Tok::kBlockEnd, "");
        if (kind == '{') {
          *strip_next = dash;
        } else {
          AfterBlockEnd(dash, plus, strip_next);
        }
        return Status::Ok();
      }
      OC_RETURN_IF_ERROR(Next(&depth));
    }
  }

  Status Next(int* depth) {
    const char c = s_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
      Emit(Tok::kName, s_.substr(start, pos_ - start));
      return Status::Ok();
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return Number();
    if (c == '"' || c == '\'') return String(c);
    static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ".",
                                 ",",  ":",  "|",  "~",  "+",  "-",  "*", "/", "%", "<", ">", "="};
    for (const char* op : kOps) {
      const size_t n = std::char_traits<char>::length(op);
      if (s_.compare(pos_, n, op) == 0) {
        if (op[0] == '(' || op[0] == '[' || op[0] == '{') ++*depth;
        if ((op[0] == ')' || op[0] == ']' || op[0] == '}') && n == 1) --*depth;
        Emit(Tok::kOp, op);
        pos_ += n;
        return Status::Ok();
      }
    }
    return InvalidArgument("line " + std::to_string(line_) + ": unexpected character '" + std::string(1, c) + "'");
  }

  Status Number() {
    const size_t start = pos_;
    bool is_float = false;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t k = pos_ + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
        is_float = true;
        pos_ = k;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      }
    }
    std::string text;
    for (size_t i = start; i < pos_; ++i) {
      if (s_[i] != '_') text += s_[i];
    }
    Emit(is_float ? Tok::kFloat : Tok::kInt, text);
    return Status::Ok();
  }

  // Python string literal escapes (Jinja decodes them with unicode-escape).
  Status String(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c == '\n') ++line_;
      if (c != '\\' || pos_ >= s_.size()) {
        out += c;
        continue;
      }
      c = s_[pos_++];
      switch (c) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
        case '\'':
        case '"':
          out += c;
          break;
        case '\n':
          ++line_;
          break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
          uint32_t cp = 0;
          if (pos_ + n > s_.size()) return InvalidArgument("line " + std::to_string(line_) + ": bad escape");
          for (size_t k = 0; k < n; ++k) {
            const char h = s_[pos_ + k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) {
              return InvalidArgument("line " + std::to_string(line_) + ": bad escape");
            }
            cp = cp * 16 + static_cast<uint32_t>(
                               std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          pos_ += n;
          AppendUtf8(cp, &out);
          break;
        }
        default:
          out += '\\';
          out += c;
      }
    }
    if (pos_ >= s_.size()) return InvalidArgument("line " + std::to_string(line_) + ": unterminated string");
    ++pos_;
    Emit(Tok::kString, out);
    return Status::Ok();
  }

  std::string s_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view source) {
  return Lexer(Normalize(source)).Run();
}

}  // namespace omnicoder::jinja
