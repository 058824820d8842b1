// Operators, slices, filters and tests in expressions, with Python's semantics.
#include <cmath>

#include "base/checked_math.h"
#include "tokenizer/jinja/interp.h"
#include "tokenizer/jinja/utf8.h"

namespace omnicoder::jinja {

namespace {

Status TypeError(const char* op, const Value& a, const Value& b) {
  return InvalidArgument(std::string("unsupported operand type(s) for ") + op + ": '" + a.TypeName() + "' and '" +
                         b.TypeName() + "'");
}

bool IsIntLike(const Value& v) {
  return v.kind() == Kind::kInt || v.kind() == Kind::kBool;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Python's int arithmetic where it fits in int64; Python would go to a big integer, we
// stop with an error (never a wrapped value or undefined behaviour).
Result<Value> IntArith(const std::string& op, int64_t a, int64_t b) {
  int64_t r = 0;
  bool overflow = false;
  if (op == "+") {
    overflow = __builtin_add_overflow(a, b, &r);
  } else if (op == "-") {
    overflow = __builtin_sub_overflow(a, b, &r);
  } else if (op == "*") {
    overflow = __builtin_mul_overflow(a, b, &r);
  } else if (op == "//" || op == "%") {
    if (b == -1) {  // INT64_MIN // -1 does not fit; x % -1 is 0
      overflow = op == "//" && __builtin_sub_overflow(int64_t{0}, a, &r);
      if (op == "%") r = 0;
    } else if (op == "//") {
      r = FloorDiv(a, b);
    } else {  // the remainder takes the divisor's sign
      r = a % b;
      if (r != 0 && (r < 0) != (b < 0)) r += b;
    }
  } else {  // "**", b >= 0: by squaring, every product checked
    r = 1;
    int64_t base = a;
    for (int64_t e = b; e > 0 && !overflow; e >>= 1) {
      if (e & 1) overflow = __builtin_mul_overflow(r, base, &r);
      if (e > 1 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
    }
  }
  if (overflow) return InvalidArgument("integer result of '" + op + "' too large (beyond 64 bits)");
  return Value(r);
}

Result<Value> Repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  const uint64_t count = static_cast<uint64_t>(n);
  uint64_t total = 0;
  if (seq.is_string()) {
    if (!CheckedMul(seq.str().size(), count, &total) || total > (64u << 20)) {
      return InvalidArgument("repeated string too large");
    }
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out));
  }
  if (!CheckedMul(seq.list().size(), count, &total) || total > (1u << 20)) {
    return InvalidArgument("repeated list too large");
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return Value(std::move(out));
}

Result<Value> Arith(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.is_markup() == b.is_markup())
        return a.is_markup() ? Value(a.str() + b.str()).AsMarkup() : Value(a.str() + b.str());
      // Markup + str escapes the plain side (markupsafe).
      return Value((a.is_markup() ? a.str() : HtmlEscape(a.str())) + (b.is_markup() ? b.str() : HtmlEscape(b.str())))
          .AsMarkup();
    }
    if (a.is_list() && b.is_list()) {
      List out = a.list();
      out.insert(out.end(), b.list().begin(), b.list().end());
      return Value(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && IsIntLike(b)) return Repeat(a, b.as_int());
    if ((b.is_string() || b.is_list()) && IsIntLike(a)) return Repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) return PercentFormat(a.str(), b);
  if (!a.is_number() || !b.is_number()) return TypeError(op.c_str(), a, b);
  const bool ints = IsIntLike(a) && IsIntLike(b);
  const double x = a.as_float(), y = b.as_float();
  if (ints && (op == "+" || op == "-" || op == "*")) return IntArith(op, a.as_int(), b.as_int());
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "/") {
    if (y == 0) return InvalidArgument("division by zero");
    return Value(x / y);
  }
  if (op == "//" || op == "%") {
    if (y == 0) return InvalidArgument("integer division or modulo by zero");
    if (ints) return IntArith(op, a.as_int(), b.as_int());
    const double q = std::floor(x / y);
    return op == "//" ? Value(q) : Value(x - q * y);
  }
  if (op == "**") {
    if (ints && b.as_int() >= 0) return IntArith(op, a.as_int(), b.as_int());
    return Value(std::pow(x, y));
  }
  return InvalidArgument("unknown operator " + op);
}

Result<bool> Contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string()) {
      return InvalidArgument(std::string("'in <string>' requires string as left operand, not ") + item.TypeName());
    }
    return container.str().find(item.str()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const Value& v : container.list()) {
      if (Equals(v, item)) return true;
    }
    return false;
  }
  if (container.is_dict()) return item.is_string() && container.dict().Find(item.str()) != nullptr;
  if (container.is_undefined()) return false;  // Undefined iterates as empty
  return InvalidArgument(std::string("argument of type '") + container.TypeName() + "' is not iterable");
}

Result<Value> Slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) return UndefinedError(obj);
  const bool str = obj.is_string();
  if (!str && !obj.is_list())
    return InvalidArgument(std::string("'") + obj.TypeName() + "' object is not subscriptable");
  std::vector<std::string> chars;
  if (str) chars = SplitChars(obj.str());
  const int64_t n = static_cast<int64_t>(str ? chars.size() : obj.list().size());
  const int64_t st = step.is_none() || step.is_undefined() ? 1 : step.as_int();
  if (st == 0) return InvalidArgument("slice step cannot be zero");
  auto clamp = [&](const Value& v, int64_t dflt) -> int64_t {
    if (v.is_none() || v.is_undefined()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) i += n;
    if (st > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
  };
  const int64_t lo = clamp(start, st > 0 ? 0 : n - 1), hi = clamp(stop, st > 0 ? n : -1);
  std::string s;
  List l;
  for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) {
    if (str) {
      s += chars[static_cast<size_t>(i)];
    } else {
      l.push_back(obj.list()[static_cast<size_t>(i)]);
    }
  }
  return str ? Value(std::move(s)) : Value(std::move(l));
}

}  // namespace

Result<Value> Interp::EvalFilterTestUnary(const Expr& e, const std::shared_ptr<Scope>& scope) {
  auto wrap = [&](Result<Value> r) -> Result<Value> {
    if (!r.ok() && r.status().message().rfind("line ", 0) != 0) return TemplateError(e.line, r.status().message());
    return r;
  };
  if (e.kind == ExprKind::kFilter) {
    OC_ASSIGN_OR_RETURN(Value subject, Eval(*e.a, scope));
    FilterFn fn = FindFilter(e.name);
    if (!fn) return TemplateError(e.line, "No filter named '" + e.name + "'.");
    Args args;
    OC_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
    return wrap(fn(*this, subject, args));
  }
  if (e.kind == ExprKind::kTest) {
    OC_ASSIGN_OR_RETURN(Value subject, Eval(*e.a, scope));
    TestFn fn = FindTest(e.name);
    if (!fn) return TemplateError(e.line, "No test named '" + e.name + "'.");
    Args args;
    OC_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
    Result<bool> r = fn(*this, subject, args);
    if (!r.ok()) return TemplateError(e.line, r.status().message());
    return Value(r.value() != e.negated);
  }
  if (e.kind == ExprKind::kUnary) {
    OC_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
    if (e.name == "not") return Value(!a.Truthy());
    if (!a.is_number())
      return TemplateError(e.line, std::string("bad operand type for unary ") + e.name + ": '" + a.TypeName() + "'");
    if (e.name == "+") return a.kind() == Kind::kBool ? Value(a.as_int()) : a;
    if (a.kind() == Kind::kFloat) return Value(-a.as_float());
    OC_ASSIGN_OR_RETURN(Value neg, IntArith("-", 0, a.as_int()));
    return neg;
  }
  return TemplateError(e.line, "unknown expression");
}

Result<Value> Interp::EvalBinary(const Expr& e, const std::shared_ptr<Scope>& scope) {
  auto wrap = [&](Result<Value> r) -> Result<Value> {
    if (!r.ok() && r.status().message().rfind("line ", 0) != 0) return TemplateError(e.line, r.status().message());
    return r;
  };
  if (e.kind == ExprKind::kSlice) {
    OC_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
    Value start = Value::None(), stop = Value::None(), step = Value::None();
    if (e.b) {
      OC_ASSIGN_OR_RETURN(start, Eval(*e.b, scope));
    }
    if (e.c) {
      OC_ASSIGN_OR_RETURN(stop, Eval(*e.c, scope));
    }
    if (!e.items.empty()) {
      OC_ASSIGN_OR_RETURN(step, Eval(*e.items[0], scope));
    }
    return wrap(Slice(obj, start, stop, step));
  }
  if (e.kind != ExprKind::kBinary) return EvalFilterTestUnary(e, scope);
  const std::string& op = e.name;
  OC_ASSIGN_OR_RETURN(Value a, Eval(*e.a, scope));
  if (op == "and") {
    if (!a.Truthy()) return a;
    return Eval(*e.b, scope);
  }
  if (op == "or") {
    if (a.Truthy()) return a;
    return Eval(*e.b, scope);
  }
  OC_ASSIGN_OR_RETURN(Value b, Eval(*e.b, scope));
  if ((op == "~" || op == "+") && (a.is_string() || op == "~")) {
    const size_t n = (a.is_string() ? a.str().size() : 0) + (b.is_string() ? b.str().size() : 0);
    if (n > limits.max_output_bytes) return TemplateError(e.line, "a string grew past the output limit");
  }
  if (op == "~") return Value(a.ToString() + b.ToString());
  if (op == "==") return Value(Equals(a, b));
  if (op == "!=") return Value(!Equals(a, b));
  if (op == "in" || op == "not in") {
    Result<bool> r = Contains(b, a);
    if (!r.ok()) return TemplateError(e.line, r.status().message());
    return Value(r.value() == (op == "in"));
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    if (a.is_undefined()) return TemplateError(e.line, UndefinedError(a).message());
    if (b.is_undefined()) return TemplateError(e.line, UndefinedError(b).message());
    Result<int> c = Compare(a, b);
    if (!c.ok()) return TemplateError(e.line, c.status().message());
    const int v = c.value();
    return Value(op == "<" ? v < 0 : op == ">" ? v > 0 : op == "<=" ? v <= 0 : v >= 0);
  }
  return wrap(Arith(op, a, b));
}

}  // namespace omnicoder::jinja
