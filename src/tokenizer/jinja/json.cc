// JSON in and out of template values: parsing the request's messages and tools, and
// Python's json.dumps for the tojson filter.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/utf8.h"
#include "tokenizer/jinja/value.h"

namespace omnicoder::jinja {

namespace {

constexpr int kMaxDepth = 128;

struct JsonParser {
  std::string_view s;
  size_t i = 0;

  void Space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  Status Fail(const std::string& what) const {
    return InvalidArgument("JSON: " + what + " at byte " + std::to_string(i));
  }
  bool Hex4(uint32_t* out) {
    if (i + 4 > s.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    i += 4;
    *out = v;
    return true;
  }
  Result<std::string> String() {
    ++i;  // opening quote
    std::string out;
    while (i < s.size() && s[i] != '"') {
      const char c = s[i++];
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) break;
      const char e = s[i++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Fail("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            const size_t save = i;
            i += 2;
            uint32_t lo = 0;
            if (Hex4(&lo) && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i = save;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;  // a lone surrogate
          AppendUtf8(cp, &out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    if (i >= s.size()) return Fail("unterminated string");
    ++i;
    return out;
  }
  Result<Value> Number() {
    const size_t start = i;
    if (s[i] == '-') ++i;
    bool is_float = false;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
      if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') is_float = true;
      ++i;
    }
    const std::string text(s.substr(start, i - start));
    if (!is_float) {
      int64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Value(v);
    }
    double d = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), d);
    if (r.ptr != text.data() + text.size()) return Fail("bad number");
    return Value(d);
  }
  Result<Value> Parse(int depth) {
    if (depth > kMaxDepth) return Fail("nested too deep");
    Space();
    if (i >= s.size()) return Fail("unexpected end");
    const char c = s[i];
    if (c == '"') {
      OC_ASSIGN_OR_RETURN(std::string str, String());
      return Value(std::move(str));
    }
    if (c == '[') return ParseList(depth);
    if (c == '{') return ParseObject(depth);
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return Number();
    for (const auto& [word, v] :
         {std::pair<std::string_view, Value>{"true", Value(true)}, {"false", Value(false)}, {"null", Value::None()}}) {
      if (s.substr(i, word.size()) == word) {
        i += word.size();
        return v;
      }
    }
    return Fail("unexpected character");
  }
  Result<Value> ParseList(int depth) {
    ++i;
    List items;
    Space();
    if (i < s.size() && s[i] == ']') {
      ++i;
      return Value(std::move(items));
    }
    for (;;) {
      OC_ASSIGN_OR_RETURN(Value v, Parse(depth + 1));
      items.push_back(std::move(v));
      Space();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        return Value(std::move(items));
      }
      return Fail("expected ',' or ']'");
    }
  }
  Result<Value> ParseObject(int depth) {
    ++i;
    auto d = std::make_shared<Dict>();
    Space();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return Value(d);
    }
    for (;;) {
      Space();
      if (i >= s.size() || s[i] != '"') return Fail("expected a key");
      OC_ASSIGN_OR_RETURN(std::string key, String());
      Space();
      if (i >= s.size() || s[i] != ':') return Fail("expected ':'");
      ++i;
      OC_ASSIGN_OR_RETURN(Value v, Parse(depth + 1));
      d->Set(key, std::move(v));
      Space();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        return Value(d);
      }
      return Fail("expected ',' or '}'");
    }
  }
};

void DumpString(const std::string& s, bool ensure_ascii, std::string* out) {
  *out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      case '\b':
        *out += "\\b";
        continue;
      case '\f':
        *out += "\\f";
        continue;
      default:
        break;
    }
    char b[16];
    if (c < 0x20) {
      std::snprintf(b, sizeof(b), "\\u%04x", c);
      *out += b;
    } else if (c >= 0x80 && ensure_ascii) {
      // Decode one UTF-8 sequence (invalid bytes pass through as U+FFFD).
      uint32_t cp = 0xFFFD;
      int n = (c >= 0xF0) ? 3 : (c >= 0xE0) ? 2 : (c >= 0xC0) ? 1 : 0;
      if (n > 0 && i + static_cast<size_t>(n) < s.size()) {
        cp = c & (0x3F >> n);
        for (int k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        i += static_cast<size_t>(n);
      }
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(b, sizeof(b), "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(b, sizeof(b), "\\u%04x", cp);
      }
      *out += b;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

void NewLine(const JsonStyle& st, int lv, std::string* out) {
  if (st.indent >= 0) *out += "\n" + std::string(static_cast<size_t>(st.indent * lv), ' ');
}

Status Dump(const Value& v, const JsonStyle& st, int level, std::string* out);

Status DumpList(const Value& v, const JsonStyle& st, int level, std::string* out) {
  if (v.is_generator()) return InvalidArgument("Object of type generator is not JSON serializable");
  if (v.list().empty()) {
    *out += "[]";
    return Status::Ok();
  }
  *out += '[';
  for (size_t i = 0; i < v.list().size(); ++i) {
    if (i) *out += st.item_sep;
    NewLine(st, level + 1, out);
    OC_RETURN_IF_ERROR(Dump(v.list()[i], st, level + 1, out));
  }
  NewLine(st, level, out);
  *out += ']';
  return Status::Ok();
}

Status DumpDict(const Value& v, const JsonStyle& st, int level, std::string* out) {
  if (v.dict().items.empty()) {
    *out += "{}";
    return Status::Ok();
  }
  std::vector<const std::pair<std::string, Value>*> items;
  for (const auto& kv : v.dict().items) items.push_back(&kv);
  if (st.sort_keys) {
    std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
  }
  *out += '{';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) *out += st.item_sep;
    NewLine(st, level + 1, out);
    const Value key = DictKeyValue(items[i]->first);
    if (key.is_string()) {
      DumpString(key.str(), st.ensure_ascii, out);
    } else {
      *out += "\"" + key.ToString() + "\"";
    }
    *out += st.key_sep;
    OC_RETURN_IF_ERROR(Dump(items[i]->second, st, level + 1, out));
  }
  NewLine(st, level, out);
  *out += '}';
  return Status::Ok();
}

Status Dump(const Value& v, const JsonStyle& st, int level, std::string* out) {
  if (level > kMaxDepth) return InvalidArgument("tojson: nested too deep");
  switch (v.kind()) {
    case Kind::kNone:
      *out += "null";
      return Status::Ok();
    case Kind::kBool:
      *out += v.as_bool() ? "true" : "false";
      return Status::Ok();
    case Kind::kInt:
      *out += std::to_string(v.as_int());
      return Status::Ok();
    case Kind::kFloat: {
      const double d = v.as_float();
      *out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : FloatRepr(d);
      return Status::Ok();
    }
    case Kind::kString:
      DumpString(v.str(), st.ensure_ascii, out);
      return Status::Ok();
    case Kind::kList:
      return DumpList(v, st, level, out);
    case Kind::kDict:
      return DumpDict(v, st, level, out);
    default:
      return InvalidArgument(std::string("Object of type ") + v.TypeName() + " is not JSON serializable");
  }
}

}  // namespace

Result<Value> ParseJson(std::string_view text) {
  JsonParser p{text};
  OC_ASSIGN_OR_RETURN(Value v, p.Parse(0));
  p.Space();
  if (p.i != text.size()) return p.Fail("trailing characters");
  return v;
}

Result<std::string> DumpJson(const Value& v, const JsonStyle& style) {
  std::string out;
  OC_RETURN_IF_ERROR(Dump(v, style, 0, &out));
  return out;
}

}  // namespace omnicoder::jinja
