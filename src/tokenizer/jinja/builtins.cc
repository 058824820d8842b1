// Attribute and item lookup, iteration, str methods, the sandbox's refusals, and globals.
#include <algorithm>
#include <charconv>
#include <ctime>

#include "tokenizer/jinja/interp.h"
#include "tokenizer/jinja/utf8.h"

namespace omnicoder::jinja {

Result<List> Iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return List();
    case Kind::kList:
      return v.list();
    case Kind::kDict: {
      List keys;
      for (const auto& [k, _] : v.dict().items) keys.push_back(DictKeyValue(k));
      return keys;
    }
    case Kind::kString: {
      List chars;
      for (std::string& c : SplitChars(v.str())) chars.emplace_back(std::move(c));
      return chars;
    }
    default:
      return InvalidArgument(std::string("'") + v.TypeName() + "' object is not iterable");
  }
}

Result<int64_t> Length(const Value& v) {
  if (v.is_generator()) return InvalidArgument("object of type 'generator' has no len()");
  switch (v.kind()) {
    case Kind::kUndefined:
      return 0;
    case Kind::kString:
      return static_cast<int64_t>(CharCount(v.str()));
    case Kind::kList:
      return static_cast<int64_t>(v.list().size());
    case Kind::kDict:
      return static_cast<int64_t>(v.dict().items.size());
    default:
      return InvalidArgument(std::string("object of type '") + v.TypeName() + "' has no len()");
  }
}

std::string PyStrip(const std::string& s, const Value& chars, bool left, bool right) {
  const std::vector<std::string> cs = SplitChars(s);
  std::vector<std::string> set;
  const bool by_space = chars.is_none() || chars.is_undefined() || !chars.is_string();
  if (!by_space) set = SplitChars(chars.str());
  auto strip = [&](const std::string& c) {
    return by_space ? IsPySpace(c) : std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t lo = 0, hi = cs.size();
  if (left) {
    while (lo < hi && strip(cs[lo])) ++lo;
  }
  if (right) {
    while (hi > lo && strip(cs[hi - 1])) --hi;
  }
  std::string out;
  for (size_t i = lo; i < hi; ++i) out += cs[i];
  return out;
}

namespace {

Value Method(Function f, const std::string& name) {
  return Value(std::move(f), name);
}

Value Unsafe(const Value& obj, const std::string& name) {
  const std::string msg = "access to attribute '" + name + "' of '" + obj.TypeName() + "' object is unsafe.";
  return Method([msg](Interp&, Args&) -> Result<Value> { return InvalidArgument(msg); }, name);
}

List SplitWhitespace(const std::string& s, int64_t maxsplit) {
  List out;
  const std::vector<std::string> cs = SplitChars(s);
  size_t i = 0;
  while (i < cs.size()) {
    while (i < cs.size() && IsPySpace(cs[i])) ++i;
    if (i >= cs.size()) break;
    std::string word;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      while (i < cs.size()) word += cs[i++];
      std::string w = PyStrip(word, Value::None(), false, true);
      out.emplace_back(w);
      break;
    }
    while (i < cs.size() && !IsPySpace(cs[i])) word += cs[i++];
    out.emplace_back(word);
  }
  return out;
}

Result<Value> Split(const std::string& s, const Value& sep, int64_t maxsplit) {
  if (sep.is_none() || sep.is_undefined()) return Value(SplitWhitespace(s, maxsplit));
  if (!sep.is_string()) return InvalidArgument("must be str or None, not " + std::string(sep.TypeName()));
  if (sep.str().empty()) return InvalidArgument("empty separator");
  List out;
  size_t from = 0;
  for (;;) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) break;
    const size_t at = s.find(sep.str(), from);
    if (at == std::string::npos) break;
    out.emplace_back(s.substr(from, at - from));
    from = at + sep.str().size();
  }
  out.emplace_back(s.substr(from));
  return Value(std::move(out));
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {  // Python inserts `to` between characters
    std::string out;
    int64_t n = 0;
    for (const std::string& c : SplitChars(s)) {
      if (count < 0 || n < count) out += to, ++n;
      out += c;
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  std::string out;
  size_t at = 0;
  int64_t n = 0;
  for (;;) {
    const size_t hit = (count >= 0 && n >= count) ? std::string::npos : s.find(from, at);
    if (hit == std::string::npos) break;
    out.append(s, at, hit - at);
    out += to;
    at = hit + from.size();
    ++n;
  }
  out.append(s, at, std::string::npos);
  return out;
}

bool AffixMatch(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const std::string& a) {
    return a.size() <= s.size() && s.compare(prefix ? 0 : s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_string()) return one(affix.str());
  if (affix.is_list()) {
    for (const Value& v : affix.list()) {
      if (v.is_string() && one(v.str())) return true;
    }
  }
  return false;
}

Result<Value> Format(const std::string& fmt, const Args& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t end = fmt.find('}', i);
    if (end == std::string::npos) return InvalidArgument("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, end - i - 1);
    const size_t colon = field.find(':');
    if (colon != std::string::npos) field.resize(colon);  // format specs are not applied
    Value v;
    if (field.empty()) {
      v = args.Get(auto_index++, "\x01");
    } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
      size_t index = 0;
      auto r = std::from_chars(field.data(), field.data() + field.size(), index);
      if (r.ec != std::errc()) return InvalidArgument("format: field index '" + field + "' out of range");
      v = args.Get(index, "\x01");
    } else {
      v = args.Get(static_cast<size_t>(-1), field);
    }
    if (v.is_undefined()) return InvalidArgument("format: no value for field '" + field + "'");
    out += v.ToString();
    i = end;
  }
  return Value(std::move(out));
}

Result<Value> StrQuery(const std::string& s, const std::string& name, const Args& a);

Result<Value> StrMethod(const std::string& s, const std::string& name, const Args& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value(PyStrip(s, a.Get(0, "chars", Value::None()), name != "rstrip", name != "lstrip"));
  }
  if (name == "split") return Split(s, a.Get(0, "sep", Value::None()), a.Get(1, "maxsplit", Value(-1)).as_int());
  if (name == "startswith" || name == "endswith") return Value(AffixMatch(s, a.Get(0, "prefix"), name == "startswith"));
  if (name == "replace") {
    const Value from = a.Get(0, "old"), to = a.Get(1, "new");
    if (!from.is_string() || !to.is_string()) return InvalidArgument("replace() arguments must be str");
    return Value(Replace(s, from.str(), to.str(), a.Get(2, "count", Value(-1)).as_int()));
  }
  if (name == "upper" || name == "lower") {
    std::string out = s;
    for (char& c : out)
      c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                            : std::tolower(static_cast<unsigned char>(c)));
    return Value(std::move(out));
  }
  if (name == "format") return Format(s, a);
  if (name == "title" || name == "capitalize") return Value(name == "title" ? TitleCase(s) : Capitalize(s));
  return StrQuery(s, name, a);
}

// str methods that search, join or classify.
Result<Value> StrQuery(const std::string& s, const std::string& name, const Args& a) {
  if (name == "find" || name == "rfind" || name == "count") {
    const Value sub = a.Get(0, "sub");
    if (!sub.is_string()) return InvalidArgument("must be str, not " + std::string(sub.TypeName()));
    if (name == "count") {
      if (sub.str().empty()) return Value(static_cast<int64_t>(CharCount(s) + 1));
      int64_t n = 0;
      for (size_t at = s.find(sub.str()); at != std::string::npos; at = s.find(sub.str(), at + sub.str().size())) ++n;
      return Value(n);
    }
    const size_t at = name == "find" ? s.find(sub.str()) : s.rfind(sub.str());
    return Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(CharCount(s.substr(0, at))));
  }
  if (name == "join") {
    OC_ASSIGN_OR_RETURN(List items, Iterate(a.Get(0, "iterable")));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string())
        return InvalidArgument("sequence item " + std::to_string(i) + ": expected str instance");
      out += (i ? s : "") + items[i].str();
    }
    return Value(std::move(out));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const Value x = a.Get(0, "x");
    if (!x.is_string()) return InvalidArgument("must be str");
    if (!AffixMatch(s, x, name == "removeprefix")) return Value(s);
    return Value(name == "removeprefix" ? s.substr(x.str().size()) : s.substr(0, s.size() - x.str().size()));
  }
  if (name == "splitlines") {
    List out;
    size_t from = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        out.emplace_back(s.substr(from, i - from));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        from = i + 1;
      }
    }
    if (from < s.size()) out.emplace_back(s.substr(from));
    return Value(std::move(out));
  }
  auto all_of = [&](int (*pred)(int)) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
  };
  if (name == "isdigit") return Value(all_of(::isdigit));
  if (name == "isalpha") return Value(all_of(::isalpha));
  if (name == "isalnum") return Value(all_of(::isalnum));
  if (name == "isspace") return Value(all_of(::isspace));
  return InvalidArgument("'str' object has no attribute '" + name + "'");
}

const char* const kStrMethods[] = {"strip",   "lstrip",  "rstrip",       "split",        "startswith", "endswith",
                                   "replace", "upper",   "lower",        "format",       "find",       "rfind",
                                   "count",   "join",    "removeprefix", "removesuffix", "splitlines", "isdigit",
                                   "isalpha", "isalnum", "isspace",      "title",        "capitalize"};

bool IsOneOf(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (name == n) return true;
  }
  return false;
}

Result<Value> DictAttr(const Value& obj, const std::string& name) {
  if (obj.is_namespace()) {
    const Value* v = obj.dict().Find(name);
    return v ? *v : Value::Undefined("'Namespace object' has no attribute '" + name + "'");
  }
  if (IsOneOf(name, {"get", "items", "keys", "values"})) {
    return Method(
        [self = obj, name](Interp&, Args& a) -> Result<Value> {
          if (name == "get") {
            const Value* v = self.dict().Find(DictKey(a.Get(0, "key")));
            return v ? *v : a.Get(1, "default", Value::None());
          }
          List out;
          for (const auto& [k, v] : self.dict().items) {
            if (name == "items") {
              out.push_back(Value(List{DictKeyValue(k), v}).AsTuple());
            } else {
              out.push_back(name == "keys" ? DictKeyValue(k) : v);
            }
          }
          return Value(std::move(out));
        },
        name);
  }
  if (IsOneOf(name, {"pop", "popitem", "update", "clear", "setdefault"})) return Unsafe(obj, name);
  const Value* v = obj.dict().Find(name);
  return v ? *v : Value::Undefined("'dict object' has no attribute '" + name + "'");
}

}  // namespace

Result<Value> GetAttr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      return UndefinedError(obj);
    case Kind::kDict:
      return DictAttr(obj, name);
    case Kind::kString:
      for (const char* m : kStrMethods) {
        if (name == m) {
          return Method([s = obj.str(), name](Interp&, Args& a) { return StrMethod(s, name, a); }, name);
        }
      }
      break;
    case Kind::kList:
      if (IsOneOf(name, {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"})) {
        return Unsafe(obj, name);
      }
      if (name == "index" || name == "count") {
        return Method(
            [self = obj, name](Interp&, Args& a) -> Result<Value> {
              const Value x = a.Get(0, "x");
              int64_t n = 0;
              for (size_t i = 0; i < self.list().size(); ++i) {
                if (!Equals(self.list()[i], x)) continue;
                if (name == "index") return Value(static_cast<int64_t>(i));
                ++n;
              }
              if (name == "index") return InvalidArgument(x.Repr() + " is not in list");
              return Value(n);
            },
            name);
      }
      break;
    default:
      break;
  }
  return Value::Undefined(std::string("'") + obj.TypeName() + " object' has no attribute '" + name + "'");
}

Result<Value> GetItem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      return UndefinedError(obj);
    case Kind::kDict: {
      if (const Value* v = obj.dict().Find(DictKey(key))) return *v;
      if (key.is_string() && !obj.is_namespace()) return GetAttr(obj, key.str());
      return Value::Undefined("'dict object' has no attribute " + key.Repr());
    }
    case Kind::kList:
    case Kind::kString: {
      if (obj.is_generator()) return InvalidArgument("'generator' object is not subscriptable");
      if (key.is_string()) return GetAttr(obj, key.str());
      if (!key.is_number())
        return Value::Undefined(std::string("'") + obj.TypeName() + " object' has no attribute " + key.Repr());
      std::vector<std::string> chars;
      if (obj.is_string()) chars = SplitChars(obj.str());
      const int64_t n = static_cast<int64_t>(obj.is_string() ? chars.size() : obj.list().size());
      int64_t i = key.as_int();
      if (i < 0) i += n;
      if (i < 0 || i >= n)
        return Value::Undefined(std::string(obj.TypeName()) + " object has no element " + key.ToString());
      return obj.is_string() ? Value(chars[static_cast<size_t>(i)]) : obj.list()[static_cast<size_t>(i)];
    }
    default:
      return Value::Undefined(std::string("'") + obj.TypeName() + " object' has no attribute " + key.Repr());
  }
}

void AddGlobals(Scope* scope) {
  scope->vars["range"] = Value(
      [](Interp&, Args& a) -> Result<Value> {
        int64_t start = 0, stop = 0, step = 1;
        if (a.positional.size() == 1) {
          stop = a.positional[0].as_int();
        } else if (a.positional.size() >= 2) {
          start = a.positional[0].as_int();
          stop = a.positional[1].as_int();
          if (a.positional.size() > 2) step = a.positional[2].as_int();
        }
        if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
        List out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
          if (out.size() >= 100000) return InvalidArgument("range too big (at most 100000 items)");
          out.emplace_back(i);
          if (__builtin_add_overflow(i, step, &i)) break;  // the next item would be past stop anyway
        }
        return Value(std::move(out));
      },
      "range");
  auto make_dict = [](bool ns) {
    return [ns](Interp& in, Args& a) -> Result<Value> {
      auto d = std::make_shared<Dict>();
      if (ns) in.namespaces.push_back(d);
      if (!a.positional.empty() && a.positional[0].is_dict()) *d = a.positional[0].dict();
      for (const auto& [k, v] : a.keyword) d->Set(k, v);
      return Value(d, ns);
    };
  };
  scope->vars["namespace"] = Value(make_dict(true), "namespace");
  scope->vars["dict"] = Value(make_dict(false), "dict");
  scope->vars["raise_exception"] = Value(
      [](Interp& in, Args& a) -> Result<Value> {
        in.raised = a.Get(0, "message").ToString();
        return InvalidArgument("raise_exception: " + in.raised);
      },
      "raise_exception");
  scope->vars["strftime_now"] = Value(
      [](Interp& in, Args& a) -> Result<Value> {
        const Value fmt = a.Get(0, "format");
        if (!fmt.is_string()) return InvalidArgument("strftime_now() needs a format string");
        const time_t t = static_cast<time_t>(in.now);
        tm parts{};
        localtime_r(&t, &parts);
        char buf[512];
        const size_t n = std::strftime(buf, sizeof(buf), fmt.str().c_str(), &parts);
        return Value(std::string(buf, n));
      },
      "strftime_now");
}

}  // namespace omnicoder::jinja
