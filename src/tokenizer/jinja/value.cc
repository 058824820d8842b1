#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace omnicoder::jinja {

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::Set(const std::string& key, Value v) {
  for (auto& [k, old] : items) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  items.emplace_back(key, std::move(v));
}

Value Args::Get(size_t n, std::string_view name, Value fallback) const {
  if (n < positional.size()) return positional[n];
  for (const auto& [k, v] : keyword) {
    if (k == name) return v;
  }
  return fallback;
}

std::string DictKey(const Value& key) {
  if (key.is_string()) return key.str();
  if (key.kind() == Kind::kInt) return "\x01i" + std::to_string(key.as_int());
  return "\x01s" + key.ToString();
}

Value DictKeyValue(const std::string& key) {
  if (key.size() > 2 && key[0] == '\x01' && key[1] == 'i')
    return Value(static_cast<int64_t>(std::stoll(key.substr(2))));
  if (key.size() > 2 && key[0] == '\x01') return Value(key.substr(2));
  return Value(key);
}

bool Value::Truthy() const {
  if (flags_ & kGenerator) return true;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return d_ != 0;
    case Kind::kString:
      return !str_->empty();
    case Kind::kList:
      return !list_->empty();
    case Kind::kDict:
      return namespace_ || !dict_->items.empty();
    case Kind::kFunction:
      return true;
  }
  return false;
}

const char* Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return namespace_ ? "Namespace" : "dict";
    case Kind::kFunction:
      return "function";
  }
  return "object";
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  // Shortest round-trip digits and their decimal exponent.
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  const int exp = std::stoi(sci.substr(e + 1));
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + eb;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  const size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

std::string StringRepr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == static_cast<unsigned char>(q)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0xA0) {
      // U+0080..U+00A0 are not printable for Python: \x80..\xa0.
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", static_cast<unsigned char>(s[i + 1]));
      out += b;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + q;
}

std::string Value::Repr(int depth) const {
  switch (kind_) {
    case Kind::kString:
      return StringRepr(*str_);
    case Kind::kUndefined:
      return "";
    default:
      return ToString(depth);
  }
}

std::string Value::ToString(int depth) const {
  if (depth > kMaxPrintDepth) return "...";
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return i_ ? "True" : "False";
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kFloat:
      return FloatRepr(d_);
    case Kind::kString:
      return *str_;
    case Kind::kList: {
      if (flags_ & kGenerator) return "<generator object>";
      const bool tuple = flags_ & kTuple;
      std::string out = tuple ? "(" : "[";
      for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].Repr(depth + 1);
      if (tuple && list_->size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Kind::kDict: {
      std::string out = namespace_ ? "<Namespace {" : "{";
      for (size_t i = 0; i < dict_->items.size(); ++i) {
        out += (i ? ", " : "") + DictKeyValue(dict_->items[i].first).Repr() + ": " +
               dict_->items[i].second.Repr(depth + 1);
      }
      return out + (namespace_ ? "}>" : "}");
    }
    case Kind::kFunction:
      return "<function " + *str_ + ">";
  }
  return "";
}

namespace {
bool EqualsAt(const Value& a, const Value& b, int depth);
}  // namespace

bool Equals(const Value& a, const Value& b) {
  return EqualsAt(a, b, 0);
}

namespace {
bool EqualsAt(const Value& a, const Value& b, int depth) {
  if (depth > Value::kMaxPrintDepth) return false;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind() || a.is_tuple() != b.is_tuple()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.str() == b.str();
    case Kind::kList:
      if (a.list().size() != b.list().size()) return false;
      for (size_t i = 0; i < a.list().size(); ++i) {
        if (!EqualsAt(a.list()[i], b.list()[i], depth + 1)) return false;
      }
      return true;
    case Kind::kDict: {
      if (&a.dict() == &b.dict()) return true;
      if (a.dict().items.size() != b.dict().items.size()) return false;
      for (const auto& [k, v] : a.dict().items) {
        const Value* o = b.dict().Find(k);
        if (!o || !EqualsAt(v, *o, depth + 1)) return false;
      }
      return true;
    }
    case Kind::kFunction:
      return &a.fn() == &b.fn();
    default:
      return false;
  }
}
}  // namespace

namespace {
Result<int> CompareAt(const Value& a, const Value& b, int depth);
}  // namespace

Result<int> Compare(const Value& a, const Value& b) {
  return CompareAt(a, b, 0);
}

namespace {
Result<int> CompareAt(const Value& a, const Value& b, int depth) {
  if (depth > Value::kMaxPrintDepth) return InvalidArgument("comparison nested too deep");
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) {
      const double x = a.as_float(), y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const size_t n = std::min(a.list().size(), b.list().size());
    for (size_t i = 0; i < n; ++i) {
      if (Equals(a.list()[i], b.list()[i])) continue;
      return CompareAt(a.list()[i], b.list()[i], depth + 1);
    }
    return a.list().size() < b.list().size() ? -1 : (a.list().size() > b.list().size() ? 1 : 0);
  }
  return InvalidArgument(std::string("'<' not supported between instances of '") + a.TypeName() + "' and '" +
                         b.TypeName() + "'");
}
}  // namespace

}  // namespace omnicoder::jinja
