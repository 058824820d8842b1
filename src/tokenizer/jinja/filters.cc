// Jinja2's builtin filters and tests (the ones chat templates use), plus Hugging Face's tojson.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tokenizer/jinja/interp.h"
#include "tokenizer/jinja/utf8.h"

namespace omnicoder::jinja {

std::string TitleCase(const std::string& s) {
  std::string out = s;
  bool prev_letter = false;
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool letter = std::isalpha(u) != 0;
    if (letter) c = static_cast<char>(prev_letter ? std::tolower(u) : std::toupper(u));
    prev_letter = letter || u >= 0x80;
  }
  return out;
}

std::string Capitalize(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i == 0 ? std::toupper(u) : std::tolower(u));
  }
  return out;
}

Result<Value> PercentFormat(const std::string& fmt, const Value& args) {
  const List items = args.is_list() ? args.list() : List{args};
  std::string out;
  size_t k = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) return InvalidArgument("incomplete format");
    const char c = fmt[i];
    if (c == '%') {
      out += '%';
      continue;
    }
    if (k >= items.size()) return InvalidArgument("not enough arguments for format string");
    const Value& v = items[k++];
    if (c == 's') {
      out += v.ToString();
    } else if (c == 'r') {
      out += v.Repr();
    } else if (c == 'd' || c == 'i') {
      if (!v.is_number()) return InvalidArgument("%d format: a real number is required");
      out += std::to_string(v.as_int());
    } else if (c == 'f') {
      char b[64];
      std::snprintf(b, sizeof(b), "%f", v.as_float());
      out += b;
    } else {
      return InvalidArgument(std::string("unsupported format character '") + c + "'");
    }
  }
  if (k < items.size() && args.is_list())
    return InvalidArgument("not all arguments converted during string formatting");
  return Value(std::move(out));
}

namespace {

using F = Result<Value>;

F ToJson(Interp&, const Value& v, const Args& a) {
  JsonStyle st;
  const Value indent = a.Get(0, "indent", Value::None());
  if (!indent.is_none()) {
    st.indent = static_cast<int>(indent.as_int());
    st.item_sep = ",";
  }
  const Value seps = a.Get(static_cast<size_t>(-1), "separators", Value::None());
  if (seps.is_list() && seps.list().size() == 2) {
    st.item_sep = seps.list()[0].ToString();
    st.key_sep = seps.list()[1].ToString();
  }
  st.sort_keys = a.Get(static_cast<size_t>(-1), "sort_keys", Value(false)).Truthy();
  st.ensure_ascii = a.Get(static_cast<size_t>(-1), "ensure_ascii", Value(false)).Truthy();
  OC_ASSIGN_OR_RETURN(std::string s, DumpJson(v, st));
  return Value(std::move(s));
}

F LengthF(Interp&, const Value& v, const Args&) {
  OC_ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value(n);
}
// Filters that keep a safe string safe (markupsafe's str methods return Markup).
Value KeepMarkup(const Value& from, std::string s) {
  return from.is_markup() ? Value(std::move(s)).AsMarkup() : Value(std::move(s));
}
F Trim(Interp&, const Value& v, const Args& a) {
  return KeepMarkup(v, PyStrip(v.ToString(), a.Get(0, "chars", Value::None()), true, true));
}
F String(Interp&, const Value& v, const Args&) {
  return Value(v.ToString());
}
F Safe(Interp&, const Value& v, const Args&) {
  return Value(v.ToString()).AsMarkup();
}
F Default(Interp&, const Value& v, const Args& a) {
  const bool boolean = a.Get(1, "boolean", Value(false)).Truthy();
  if (v.is_undefined() || (boolean && !v.Truthy())) return a.Get(0, "default_value", Value(""));
  return v;
}
F Upper(Interp&, const Value& v, const Args&) {
  std::string s = v.ToString();
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return KeepMarkup(v, std::move(s));
}
F Lower(Interp&, const Value& v, const Args&) {
  std::string s = v.ToString();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return KeepMarkup(v, std::move(s));
}
F Title(Interp&, const Value& v, const Args&) {
  return Value(TitleCase(v.ToString()));
}
F CapitalizeF(Interp&, const Value& v, const Args&) {
  return Value(Capitalize(v.ToString()));
}

Result<Value> AttrOf(const Value& item, const Value& attr) {
  if (attr.is_none() || attr.is_undefined()) return item;
  Value cur = item;
  const std::string path = attr.ToString();
  size_t from = 0;
  for (;;) {  // "a.b" walks; numeric parts index lists
    const size_t dot = path.find('.', from);
    const std::string part = path.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    int64_t index = 0;
    const auto r = std::from_chars(part.data(), part.data() + part.size(), index);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit) && r.ec == std::errc();
    OC_ASSIGN_OR_RETURN(cur, GetItem(cur, digits ? Value(index) : Value(part)));  // too long: a plain key
    if (dot == std::string::npos) return cur;
    from = dot + 1;
  }
}

F Join(Interp&, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  const std::string sep = a.Get(0, "d", Value("")).ToString();
  const Value attr = a.Get(1, "attribute", Value::None());
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    OC_ASSIGN_OR_RETURN(Value x, AttrOf(items[i], attr));
    out += (i ? sep : "") + x.ToString();
  }
  return Value(std::move(out));
}
F ReplaceF(Interp& in, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(Value m, GetAttr(Value(v.ToString()), "replace"));
  Args b;
  b.positional = {Value(a.Get(0, "old").ToString()), Value(a.Get(1, "new").ToString())};
  const Value count = a.Get(2, "count", Value::None());
  if (!count.is_none()) b.positional.push_back(count);
  return m.fn()(in, b);
}
F Items(Interp&, const Value& v, const Args&) {
  if (v.is_undefined()) return Value(List());
  if (!v.is_dict()) return InvalidArgument("items filter: not a mapping");
  List out;
  for (const auto& [k, x] : v.dict().items) out.push_back(Value(List{DictKeyValue(k), x}).AsTuple());
  return Value(std::move(out));
}
F ListF(Interp&, const Value& v, const Args&) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  return Value(std::move(items));
}

// Sort keys as Jinja does: strings lower-cased unless case_sensitive.
Value SortKey(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) {
    std::string s = v.str();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Value(std::move(s));
  }
  return v;
}

Status SortBy(List* items, const std::function<Result<Value>(const Value&)>& key, bool reverse) {
  Status err = Status::Ok();
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : *items) {
    Result<Value> k = key(item);
    if (!k.ok()) return k.status();
    keyed.emplace_back(k.value(), item);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    Result<int> c = reverse ? Compare(y.first, x.first) : Compare(x.first, y.first);
    if (!c.ok()) {
      err = c.status();
      return false;
    }
    return c.value() < 0;
  });
  OC_RETURN_IF_ERROR(err);
  for (size_t i = 0; i < keyed.size(); ++i) (*items)[i] = keyed[i].second;
  return Status::Ok();
}

F DictSort(Interp& in, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(Value items, Items(in, v, a));
  List l = items.list();
  const bool cs = a.Get(0, "case_sensitive", Value(false)).Truthy();
  const size_t by = a.Get(1, "by", Value("key")).ToString() == "value" ? 1 : 0;
  OC_RETURN_IF_ERROR(SortBy(
      &l, [&](const Value& p) -> Result<Value> { return SortKey(p.list()[by], cs); },
      a.Get(2, "reverse", Value(false)).Truthy()));
  return Value(std::move(l));
}
F Sort(Interp&, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(List l, Iterate(v));
  const bool cs = a.Get(1, "case_sensitive", Value(false)).Truthy();
  const Value attr = a.Get(2, "attribute", Value::None());
  OC_RETURN_IF_ERROR(SortBy(
      &l,
      [&](const Value& x) -> Result<Value> {
        OC_ASSIGN_OR_RETURN(Value k, AttrOf(x, attr));
        return SortKey(k, cs);
      },
      a.Get(0, "reverse", Value(false)).Truthy()));
  return Value(std::move(l));
}

// select/reject/selectattr/rejectattr: keep the items whose (attribute's) test passes.
Result<Value> SelectImpl(Interp& in, const Value& v, const Args& a, bool by_attr, bool keep) {
  if (!v.Truthy()) return Value(List()).AsGenerator();  // Jinja: "if value:" before iterating
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  const size_t first_test_arg = by_attr ? 1 : 0;
  const Value attr = by_attr ? a.Get(0, "attribute") : Value::None();
  TestFn test = nullptr;
  Args targs;
  if (a.positional.size() > first_test_arg) {
    const std::string name = a.positional[first_test_arg].ToString();
    test = FindTest(name);
    if (!test) return InvalidArgument("No test named '" + name + "'.");
    targs.positional.assign(a.positional.begin() + static_cast<long>(first_test_arg) + 1, a.positional.end());
  }
  List out;
  for (const Value& item : items) {
    OC_ASSIGN_OR_RETURN(Value x, AttrOf(item, attr));
    bool pass = x.Truthy();
    if (test) {
      OC_ASSIGN_OR_RETURN(pass, test(in, x, targs));
    }
    if (pass == keep) out.push_back(item);
  }
  return Value(std::move(out)).AsGenerator();
}
F Select(Interp& in, const Value& v, const Args& a) {
  return SelectImpl(in, v, a, false, true);
}
F Reject(Interp& in, const Value& v, const Args& a) {
  return SelectImpl(in, v, a, false, false);
}
F SelectAttr(Interp& in, const Value& v, const Args& a) {
  return SelectImpl(in, v, a, true, true);
}
F RejectAttr(Interp& in, const Value& v, const Args& a) {
  return SelectImpl(in, v, a, true, false);
}

F Map(Interp& in, const Value& v, const Args& a) {
  if (!v.Truthy()) return Value(List()).AsGenerator();
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  List out;
  const Value attr = a.Get(static_cast<size_t>(-1), "attribute", Value::None());
  if (!attr.is_none()) {
    const Value dflt = a.Get(static_cast<size_t>(-1), "default");
    for (const Value& item : items) {
      OC_ASSIGN_OR_RETURN(Value x, AttrOf(item, attr));
      out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
    }
    return Value(std::move(out)).AsGenerator();
  }
  if (a.positional.empty()) return Value(std::move(items));
  const std::string name = a.positional[0].ToString();
  FilterFn f = FindFilter(name);
  if (!f) return InvalidArgument("No filter named '" + name + "'.");
  Args fargs;
  fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
  fargs.keyword = a.keyword;
  for (const Value& item : items) {
    OC_ASSIGN_OR_RETURN(Value x, f(in, item, fargs));
    out.push_back(std::move(x));
  }
  return Value(std::move(out)).AsGenerator();
}

F Unique(Interp&, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  const bool cs = a.Get(0, "case_sensitive", Value(false)).Truthy();
  const Value attr = a.Get(1, "attribute", Value::None());
  List out, seen;
  for (const Value& item : items) {
    OC_ASSIGN_OR_RETURN(Value k, AttrOf(item, attr));
    k = SortKey(k, cs);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return Equals(s, k); })) continue;
    seen.push_back(k);
    out.push_back(item);
  }
  return Value(std::move(out)).AsGenerator();
}

Result<Value> MinMax(const Value& v, const Args& a, bool want_max) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  const bool cs = a.Get(0, "case_sensitive", Value(false)).Truthy();
  const Value attr = a.Get(1, "attribute", Value::None());
  Value best = items[0];
  OC_ASSIGN_OR_RETURN(Value best_key, AttrOf(best, attr));
  best_key = SortKey(best_key, cs);
  for (size_t i = 1; i < items.size(); ++i) {
    OC_ASSIGN_OR_RETURN(Value k, AttrOf(items[i], attr));
    k = SortKey(k, cs);
    OC_ASSIGN_OR_RETURN(int c, Compare(k, best_key));
    if (want_max ? c > 0 : c < 0) best = items[i], best_key = k;
  }
  return best;
}
F Min(Interp&, const Value& v, const Args& a) {
  return MinMax(v, a, false);
}
F Max(Interp&, const Value& v, const Args& a) {
  return MinMax(v, a, true);
}

F Indent(Interp&, const Value& v, const Args& a) {
  const Value width = a.Get(0, "width", Value(4));
  const std::string pad =
      width.is_string() ? width.str() : std::string(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
  const bool first = a.Get(1, "first", Value(false)).Truthy();
  const bool blank = a.Get(2, "blank", Value(false)).Truthy();
  const std::string s = v.ToString() + "\n";
  std::vector<std::string> lines;
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(from, i - from));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      from = i + 1;
    }
  }
  std::string out = lines.empty() ? "" : lines[0];
  for (size_t i = 1; i < lines.size(); ++i) out += "\n" + ((blank || !lines[i].empty()) ? pad + lines[i] : lines[i]);
  if (first) out = pad + out;
  return Value(std::move(out));
}

Result<Value> ParseNumber(const Value& v, bool want_int, const Value& dflt) {
  if (v.is_number()) return want_int ? Value(v.as_int()) : Value(v.as_float());
  if (!v.is_string()) return dflt;
  const std::string s = PyStrip(v.str(), Value::None(), true, true);
  char* end = nullptr;
  if (want_int) {
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(i));
  }
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return dflt;
  if (!want_int) return Value(d);
  if (!Value::FitsInt(d)) return InvalidArgument("int(): '" + s + "' is too large for a 64-bit integer");
  return Value(static_cast<int64_t>(d));
}
F Int(Interp&, const Value& v, const Args& a) {
  return ParseNumber(v, true, a.Get(0, "default", Value(0)));
}
F Float(Interp&, const Value& v, const Args& a) {
  return ParseNumber(v, false, a.Get(0, "default", Value(0.0)));
}
F Abs(Interp&, const Value& v, const Args&) {
  if (!v.is_number()) return InvalidArgument(std::string("bad operand type for abs(): '") + v.TypeName() + "'");
  if (v.kind() == Kind::kFloat) return Value(std::fabs(v.as_float()));
  if (v.as_int() == INT64_MIN) return InvalidArgument("abs(): the result is too large for a 64-bit integer");
  return Value(static_cast<int64_t>(std::llabs(v.as_int())));
}
F First(Interp&, const Value& v, const Args&) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  return items.empty() ? Value::Undefined("No first item, sequence was empty.") : items.front();
}
F Last(Interp&, const Value& v, const Args&) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  return items.empty() ? Value::Undefined("No last item, sequence was empty.") : items.back();
}
F Reverse(Interp&, const Value& v, const Args&) {
  if (v.is_string()) {
    std::vector<std::string> cs = SplitChars(v.str());
    std::string out;
    for (size_t i = cs.size(); i-- > 0;) out += cs[i];
    return Value(std::move(out));
  }
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  std::reverse(items.begin(), items.end());
  return Value(std::move(items));
}
F Round(Interp&, const Value& v, const Args& a) {
  const double p = std::pow(10.0, static_cast<double>(a.Get(0, "precision", Value(0)).as_int()));
  const std::string method = a.Get(1, "method", Value("common")).ToString();
  const double x = v.as_float() * p;
  const double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::round(x);
  return Value(r / p);
}
F FormatF(Interp&, const Value& v, const Args& a) {
  return PercentFormat(v.ToString(), Value(a.positional));
}
F Attr(Interp&, const Value& v, const Args& a) {
  return GetAttr(v, a.Get(0, "name").ToString());
}
F Sum(Interp&, const Value& v, const Args& a) {
  OC_ASSIGN_OR_RETURN(List items, Iterate(v));
  const Value attr = a.Get(0, "attribute", Value::None());
  Value total = a.Get(1, "start", Value(0));
  for (const Value& item : items) {
    OC_ASSIGN_OR_RETURN(Value x, AttrOf(item, attr));
    if (!x.is_number() || !total.is_number()) return InvalidArgument("sum: not a number");
    if (x.kind() == Kind::kFloat || total.kind() == Kind::kFloat) {
      total = Value(total.as_float() + x.as_float());
    } else {
      int64_t s = 0;
      if (__builtin_add_overflow(total.as_int(), x.as_int(), &s))
        return InvalidArgument("sum: too large (beyond 64 bits)");
      total = Value(s);
    }
  }
  return total;
}
F Escape(Interp&, const Value& v, const Args&) {
  return v.is_markup() ? v : Value(HtmlEscape(v.ToString())).AsMarkup();
}

struct NamedFilter {
  const char* name;
  FilterFn fn;
};
const NamedFilter kFilters[] = {
    {"tojson", ToJson},
    {"length", LengthF},
    {"count", LengthF},
    {"trim", Trim},
    {"string", String},
    {"safe", Safe},
    {"default", Default},
    {"d", Default},
    {"upper", Upper},
    {"lower", Lower},
    {"title", Title},
    {"capitalize", CapitalizeF},
    {"join", Join},
    {"replace", ReplaceF},
    {"items", Items},
    {"list", ListF},
    {"dictsort", DictSort},
    {"sort", Sort},
    {"select", Select},
    {"reject", Reject},
    {"selectattr", SelectAttr},
    {"rejectattr", RejectAttr},
    {"map", Map},
    {"unique", Unique},
    {"min", Min},
    {"max", Max},
    {"indent", Indent},
    {"int", Int},
    {"float", Float},
    {"abs", Abs},
    {"first", First},
    {"last", Last},
    {"reverse", Reverse},
    {"round", Round},
    {"format", FormatF},
    {"attr", Attr},
    {"sum", Sum},
    {"escape", Escape},
    {"e", Escape},
};

using T = Result<bool>;
T Defined(Interp&, const Value& v, const Args&) {
  return !v.is_undefined();
}
T Undef(Interp&, const Value& v, const Args&) {
  return v.is_undefined();
}
T None(Interp&, const Value& v, const Args&) {
  return v.is_none();
}
T StringT(Interp&, const Value& v, const Args&) {
  return v.is_string();
}
T Number(Interp&, const Value& v, const Args&) {
  return v.is_number();
}
T Integer(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kInt;
}
T FloatT(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kFloat;
}
T Boolean(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kBool;
}
T True(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kBool && v.as_bool();
}
T False(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kBool && !v.as_bool();
}
T Mapping(Interp&, const Value& v, const Args&) {
  return v.is_dict() && !v.is_namespace();
}
T Iterable(Interp&, const Value& v, const Args&) {
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}
T Sequence(Interp&, const Value& v, const Args&) {
  return v.is_string() || v.is_list() || v.is_dict();
}
T Callable(Interp&, const Value& v, const Args&) {
  return v.kind() == Kind::kFunction;
}
T Odd(Interp&, const Value& v, const Args&) {
  return v.as_int() % 2 != 0;
}
T Even(Interp&, const Value& v, const Args&) {
  return v.as_int() % 2 == 0;
}
T DivisibleBy(Interp&, const Value& v, const Args& a) {
  const int64_t n = a.Get(0, "num").as_int();
  if (n == 0) return InvalidArgument("integer division or modulo by zero");
  return v.as_int() % n == 0;
}
T Eq(Interp&, const Value& v, const Args& a) {
  return Equals(v, a.Get(0, "other"));
}
T Ne(Interp&, const Value& v, const Args& a) {
  return !Equals(v, a.Get(0, "other"));
}
Result<bool> Cmp(const Value& v, const Args& a, int want) {
  OC_ASSIGN_OR_RETURN(int c, Compare(v, a.Get(0, "other")));
  return want == -1 ? c < 0 : want == 1 ? c > 0 : want == -2 ? c <= 0 : c >= 0;
}
T Lt(Interp&, const Value& v, const Args& a) {
  return Cmp(v, a, -1);
}
T Gt(Interp&, const Value& v, const Args& a) {
  return Cmp(v, a, 1);
}
T Le(Interp&, const Value& v, const Args& a) {
  return Cmp(v, a, -2);
}
T Ge(Interp&, const Value& v, const Args& a) {
  return Cmp(v, a, 2);
}
T In(Interp&, const Value& v, const Args& a) {
  const Value seq = a.Get(0, "seq");
  if (seq.is_string()) return v.is_string() && seq.str().find(v.str()) != std::string::npos;
  if (seq.is_dict()) return v.is_string() && seq.dict().Find(v.str()) != nullptr;
  OC_ASSIGN_OR_RETURN(List items, Iterate(seq));
  return std::any_of(items.begin(), items.end(), [&](const Value& x) { return Equals(x, v); });
}
T SameAs(Interp&, const Value& v, const Args& a) {
  const Value o = a.Get(0, "other");
  if (v.kind() != o.kind()) return false;
  if (v.is_none() || v.kind() == Kind::kBool) return Equals(v, o);
  return v.is_list() ? &v.list() == &o.list() : v.is_dict() ? &v.dict() == &o.dict() : false;
}
T LowerT(Interp&, const Value& v, const Args&) {
  const std::string s = v.ToString();
  return std::none_of(s.begin(), s.end(), ::isupper) && std::any_of(s.begin(), s.end(), ::islower);
}
T UpperT(Interp&, const Value& v, const Args&) {
  const std::string s = v.ToString();
  return std::none_of(s.begin(), s.end(), ::islower) && std::any_of(s.begin(), s.end(), ::isupper);
}
T FilterT(Interp&, const Value& v, const Args&) {
  return v.is_string() && FindFilter(v.str()) != nullptr;
}
T TestT(Interp&, const Value& v, const Args&) {
  return v.is_string() && FindTest(v.str()) != nullptr;
}

struct NamedTest {
  const char* name;
  TestFn fn;
};
const NamedTest kTests[] = {
    {"defined", Defined},
    {"undefined", Undef},
    {"none", None},
    {"string", StringT},
    {"number", Number},
    {"integer", Integer},
    {"float", FloatT},
    {"boolean", Boolean},
    {"true", True},
    {"false", False},
    {"mapping", Mapping},
    {"iterable", Iterable},
    {"sequence", Sequence},
    {"callable", Callable},
    {"odd", Odd},
    {"even", Even},
    {"divisibleby", DivisibleBy},
    {"eq", Eq},
    {"equalto", Eq},
    {"==", Eq},
    {"ne", Ne},
    {"!=", Ne},
    {"lt", Lt},
    {"lessthan", Lt},
    {"<", Lt},
    {"gt", Gt},
    {"greaterthan", Gt},
    {">", Gt},
    {"le", Le},
    {"<=", Le},
    {"ge", Ge},
    {">=", Ge},
    {"in", In},
    {"sameas", SameAs},
    {"lower", LowerT},
    {"upper", UpperT},
    {"filter", FilterT},
    {"test", TestT},
};

}  // namespace

FilterFn FindFilter(const std::string& name) {
  for (const NamedFilter& f : kFilters) {
    if (name == f.name) return f.fn;
  }
  return nullptr;
}

TestFn FindTest(const std::string& name) {
  for (const NamedTest& t : kTests) {
    if (name == t.name) return t.fn;
  }
  return nullptr;
}

}  // namespace omnicoder::jinja
