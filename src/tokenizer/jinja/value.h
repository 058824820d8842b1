// Values of the Jinja subset chat templates use, with Python's semantics where templates
// can see them (str() and repr() of lists and dicts, int vs float, truthiness, ordering),
// since the reference is Hugging Face's Jinja2 environment. Dicts keep insertion order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace omnicoder::jinja {

class Value;
using List = std::vector<Value>;
struct Dict;
struct Args;
struct Interp;
// A callable: builtin functions, bound methods and macros.
using Function = std::function<Result<Value>(Interp&, Args&)>;

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

class Value {
 public:
  Value() = default;  // undefined
  static Value Undefined(std::string name = "") {
    Value v;
    v.str_ = std::make_shared<std::string>(std::move(name));
    return v;
  }
  static Value None() { return Value(Kind::kNone); }
  Value(bool b) : kind_(Kind::kBool), i_(b) {}                                                       // NOLINT
  Value(int64_t i) : kind_(Kind::kInt), i_(i) {}                                                     // NOLINT
  Value(int i) : kind_(Kind::kInt), i_(i) {}                                                         // NOLINT
  Value(double d) : kind_(Kind::kFloat), d_(d) {}                                                    // NOLINT
  Value(std::string s) : kind_(Kind::kString), str_(std::make_shared<std::string>(std::move(s))) {}  // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                                                    // NOLINT
  Value(List l) : kind_(Kind::kList), list_(std::make_shared<List>(std::move(l))) {}                 // NOLINT
  explicit Value(std::shared_ptr<Dict> d, bool is_namespace = false)
      : kind_(Kind::kDict), dict_(std::move(d)), namespace_(is_namespace) {}
  explicit Value(Function f, std::string name)
      : kind_(Kind::kFunction),
        str_(std::make_shared<std::string>(std::move(name))),
        fn_(std::make_shared<Function>(std::move(f))) {}

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return namespace_; }
  // A string marked safe (markupsafe.Markup): '+' with a plain string escapes that string.
  bool is_markup() const { return flags_ & kMarkup; }
  // A list that Python holds as a generator (select, map, ...): always true, no len(), no
  // index, not JSON serializable.
  bool is_generator() const { return flags_ & kGenerator; }
  // A list that Python holds as a tuple: printed with parentheses, unequal to lists.
  bool is_tuple() const { return flags_ & kTuple; }
  Value AsTuple() const {
    Value v = *this;
    v.flags_ |= kTuple;
    return v;
  }
  Value AsMarkup() const {
    Value v = *this;
    v.flags_ |= kMarkup;
    return v;
  }
  Value AsGenerator() const {
    Value v = *this;
    v.flags_ |= kGenerator;
    return v;
  }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return kind_ == Kind::kFloat ? SaturatedInt(d_) : i_; }
  // A float truncated toward zero as int64, saturated at its ends (NaN: 0): a float
  // outside the range never reaches the cast (undefined behaviour in C++).
  static int64_t SaturatedInt(double d) {
    if (d != d) return 0;
    if (!FitsInt(d)) return d > 0 ? INT64_MAX : INT64_MIN;
    return static_cast<int64_t>(d);
  }
  // True when d truncated toward zero is an int64 (false for NaN).
  static bool FitsInt(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0; }
  double as_float() const { return kind_ == Kind::kFloat ? d_ : static_cast<double>(i_); }
  const std::string& str() const { return *str_; }                           // kString
  std::string str_or_empty() const { return str_ ? *str_ : std::string(); }  // kUndefined: why
  const List& list() const { return *list_; }
  const Dict& dict() const { return *dict_; }
  Dict& mutable_dict() const { return *dict_; }
  const Function& fn() const { return *fn_; }
  const std::string& fn_name() const { return *str_; }

  bool Truthy() const;
  // Python's str(): what {{ value }} prints.
  // Values nested deeper than kMaxPrintDepth print as "..." (Python would recurse until
  // its recursion limit; a template can build such a value in a loop).
  std::string ToString(int depth = 0) const;
  // Python's repr(): how values print inside lists and dicts.
  std::string Repr(int depth = 0) const;
  static constexpr int kMaxPrintDepth = 100;
  const char* TypeName() const;  // Python's type name, for messages

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndefined;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<std::string> str_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
  bool namespace_ = false;
  static constexpr unsigned kMarkup = 1, kGenerator = 2, kTuple = 4;
  unsigned flags_ = 0;
};

// Dict keys are strings; an integer key (a template's {1024: ...}) is stored encoded.
std::string DictKey(const Value& key);
Value DictKeyValue(const std::string& key);

struct Dict {
  std::vector<std::pair<std::string, Value>> items;  // insertion order
  const Value* Find(std::string_view key) const;
  void Set(const std::string& key, Value v);
};

// Arguments of a call: positional, then keyword (in call order).
struct Args {
  List positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The n-th positional or the keyword `name`; `fallback` when neither is given.
  Value Get(size_t n, std::string_view name, Value fallback = Value()) const;
};

// Python equality (1 == 1.0 == True; lists and dicts element-wise).
bool Equals(const Value& a, const Value& b);
// Python ordering of numbers with numbers, strings with strings, lists element-wise;
// anything else is an error.
Result<int> Compare(const Value& a, const Value& b);

// Python's repr() of a float (shortest round trip, exponent from 1e16 and below 1e-4).
std::string FloatRepr(double d);
// Python's repr() of a string (quotes chosen like Python's).
std::string StringRepr(const std::string& s);

// JSON text -> Value (objects keep key order; integers stay ints).
Result<Value> ParseJson(std::string_view text);
struct JsonStyle {
  int indent = -1;  // < 0: one line
  std::string item_sep = ", ", key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python's json.dumps (as Hugging Face's tojson calls it).
Result<std::string> DumpJson(const Value& v, const JsonStyle& style);

}  // namespace omnicoder::jinja
