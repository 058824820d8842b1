#include "tokenizer/jinja/parser.h"

#include <charconv>
#include <cstdlib>

#include "tokenizer/jinja/lexer.h"

namespace omnicoder::jinja {

namespace {

constexpr int kMaxNesting = 200;
// Bracket tokens by name (a literal brace in a function confuses scripts/check_style.py).
constexpr const char* kLBrace = "{";
constexpr const char* kRBrace = "}";

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::shared_ptr<const Template>> Run() {
    auto tpl = std::make_shared<Template>();
    std::string end;
    OC_RETURN_IF_ERROR(ParseBody({}, &tpl->body, &end));
    return std::shared_ptr<const Template>(std::move(tpl));
  }

 private:
  const Token& Peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool IsOp(const char* op, size_t k = 0) const { return Peek(k).type == Tok::kOp && Peek(k).text == op; }
  bool IsName(const char* name, size_t k = 0) const { return Peek(k).type == Tok::kName && Peek(k).text == name; }
  Status Fail(const std::string& what) const {
    return InvalidArgument("line " + std::to_string(Peek().line) + ": " + what);
  }
  Status Expect(const char* op) {
    if (!IsOp(op)) return Fail(std::string("expected '") + op + "', found '" + Peek().text + "'");
    ++i_;
    return Status::Ok();
  }
  Status ExpectBlockEnd() {
    if (Peek().type != Tok::kBlockEnd) return Fail("expected the end of the tag, found '" + Peek().text + "'");
    ++i_;
    return Status::Ok();
  }
  Result<std::string> Name() {
    if (Peek().type != Tok::kName) return Fail("expected a name, found '" + Peek().text + "'");
    return t_[i_++].text;
  }
  ExprPtr Node(ExprKind k) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = Peek().line;
    return e;
  }

  // Statements until one of `ends` ({% endfor %}, {% else %}, ...); *end names it.
  Status ParseBody(const std::vector<std::string>& ends, Body* body, std::string* end) {
    if (++depth_ > kMaxNesting) return Fail("blocks nested too deep");
    for (;;) {
      const Token& tk = Peek();
      if (tk.type == Tok::kEof) {
        --depth_;
        if (ends.empty()) return Status::Ok();
        return Fail("missing {% " + ends[0] + " %}");
      }
      if (tk.type == Tok::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->text = tk.text;
        ++i_;
        body->push_back(std::move(s));
        continue;
      }
      if (tk.type == Tok::kVarBegin) {
        ++i_;
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->line = tk.line;
        OC_ASSIGN_OR_RETURN(s->expr, Expression());
        if (Peek().type != Tok::kVarEnd) return Fail("expected '}}', found '" + Peek().text + "'");
        ++i_;
        body->push_back(std::move(s));
        continue;
      }
      if (tk.type != Tok::kBlockBegin) return Fail("unexpected '" + tk.text + "'");
      const Token& kw = Peek(1);
      for (const std::string& e : ends) {
        if (kw.type == Tok::kName && kw.text == e) {
          i_ += 2;
          *end = e;
          --depth_;
          return Status::Ok();
        }
      }
      i_ += 1;
      OC_ASSIGN_OR_RETURN(std::unique_ptr<Stmt> s, Statement());
      if (s) body->push_back(std::move(s));
    }
  }

  Result<std::unique_ptr<Stmt>> Statement() {
    OC_ASSIGN_OR_RETURN(std::string kw, Name());
    auto s = std::make_unique<Stmt>();
    s->line = Peek().line;
    if (kw == "if") return If(std::move(s));
    if (kw == "for") return For(std::move(s));
    if (kw == "set") return Set(std::move(s));
    if (kw == "macro") return Macro(std::move(s));
    if (kw == "filter") return FilterBlock(std::move(s));
    if (kw == "break" || kw == "continue") {
      s->kind = kw == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      return s;
    }
    if (kw == "generation") {
      s->kind = StmtKind::kBody;
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      std::string end;
      OC_RETURN_IF_ERROR(ParseBody({"endgeneration"}, &s->body, &end));
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      return s;
    }
    return Fail("unknown tag '" + kw + "'");
  }

  Result<std::unique_ptr<Stmt>> If(std::unique_ptr<Stmt> s) {
    s->kind = StmtKind::kIf;
    for (;;) {
      OC_ASSIGN_OR_RETURN(ExprPtr cond, Expression());
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      s->conds.push_back(std::move(cond));
      s->bodies.emplace_back();
      std::string end;
      OC_RETURN_IF_ERROR(ParseBody({"elif", "else", "endif"}, &s->bodies.back(), &end));
      if (end == "elif") continue;
      if (end == "else") {
        OC_RETURN_IF_ERROR(ExpectBlockEnd());
        s->bodies.emplace_back();
        OC_RETURN_IF_ERROR(ParseBody({"endif"}, &s->bodies.back(), &end));
      }
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      return s;
    }
  }

  Result<std::unique_ptr<Stmt>> For(std::unique_ptr<Stmt> s) {
    s->kind = StmtKind::kFor;
    for (;;) {
      OC_ASSIGN_OR_RETURN(std::string n, Name());
      s->targets.push_back(n);
      if (!IsOp(",")) break;
      ++i_;
    }
    if (!IsName("in")) return Fail("expected 'in' in a for loop");
    ++i_;
    OC_ASSIGN_OR_RETURN(s->expr, Condition(/*allow_cond=*/false));
    if (IsName("if")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(s->cond, Condition(false));
    }
    if (IsName("recursive")) return Fail("recursive loops are not supported");
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    OC_RETURN_IF_ERROR(ParseBody({"else", "endfor"}, &s->body, &end));
    if (end == "else") {
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      OC_RETURN_IF_ERROR(ParseBody({"endfor"}, &s->else_body, &end));
    }
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  Result<std::unique_ptr<Stmt>> Set(std::unique_ptr<Stmt> s) {
    OC_ASSIGN_OR_RETURN(std::string n, Name());
    s->targets.push_back(n);
    if (IsOp(".")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(std::string attr, Name());
      s->targets.push_back(attr);
      s->attr_target = true;
    } else {
      while (IsOp(",")) {
        ++i_;
        OC_ASSIGN_OR_RETURN(std::string more, Name());
        s->targets.push_back(more);
      }
    }
    if (Peek().type == Tok::kBlockEnd && !s->attr_target && s->targets.size() == 1) {
      ++i_;
      s->kind = StmtKind::kSetBlock;
      s->text = n;
      std::string end;
      OC_RETURN_IF_ERROR(ParseBody({"endset"}, &s->body, &end));
      OC_RETURN_IF_ERROR(ExpectBlockEnd());
      return s;
    }
    s->kind = StmtKind::kSet;
    OC_RETURN_IF_ERROR(Expect("="));
    OC_ASSIGN_OR_RETURN(s->expr, Tuple());
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  Result<std::unique_ptr<Stmt>> Macro(std::unique_ptr<Stmt> s) {
    s->kind = StmtKind::kMacro;
    OC_ASSIGN_OR_RETURN(s->text, Name());
    OC_RETURN_IF_ERROR(Expect("("));
    while (!IsOp(")")) {
      OC_ASSIGN_OR_RETURN(std::string p, Name());
      ExprPtr def;
      if (IsOp("=")) {
        ++i_;
        OC_ASSIGN_OR_RETURN(def, Expression());
      }
      s->params.emplace_back(p, std::move(def));
      if (!IsOp(",")) break;
      ++i_;
    }
    OC_RETURN_IF_ERROR(Expect(")"));
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    OC_RETURN_IF_ERROR(ParseBody({"endmacro"}, &s->body, &end));
    if (Peek().type == Tok::kName) ++i_;  // {% endmacro name %}
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  Result<std::unique_ptr<Stmt>> FilterBlock(std::unique_ptr<Stmt> s) {
    s->kind = StmtKind::kFilterBlock;
    ExprPtr f = Node(ExprKind::kFilter);
    OC_ASSIGN_OR_RETURN(f->name, Name());
    if (IsOp("(")) OC_RETURN_IF_ERROR(Arguments(&f->args));
    s->expr = std::move(f);
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    std::string end;
    OC_RETURN_IF_ERROR(ParseBody({"endfilter"}, &s->body, &end));
    OC_RETURN_IF_ERROR(ExpectBlockEnd());
    return s;
  }

  // a, b, c (a tuple when there is a comma), as set values and subscripts allow.
  Result<ExprPtr> Tuple() {
    OC_ASSIGN_OR_RETURN(ExprPtr first, Expression());
    if (!IsOp(",")) return first;
    ExprPtr list = Node(ExprKind::kList);
    list->tuple = true;
    list->items.push_back(std::move(first));
    while (IsOp(",")) {
      ++i_;
      if (Peek().type == Tok::kBlockEnd) break;
      OC_ASSIGN_OR_RETURN(ExprPtr e, Expression());
      list->items.push_back(std::move(e));
    }
    return list;
  }

  Result<ExprPtr> Expression() { return Condition(true); }

  Result<ExprPtr> Condition(bool allow_cond) {
    if (++depth_ > kMaxNesting) return Fail("expression nested too deep");
    OC_ASSIGN_OR_RETURN(ExprPtr e, Or());
    while (allow_cond && IsName("if")) {
      ++i_;
      ExprPtr c = Node(ExprKind::kCond);
      OC_ASSIGN_OR_RETURN(c->a, Or());
      c->b = std::move(e);
      if (IsName("else")) {
        ++i_;
        OC_ASSIGN_OR_RETURN(c->c, Condition(true));
      }
      e = std::move(c);
    }
    --depth_;
    return e;
  }

  ExprPtr Binary(const std::string& op, ExprPtr a, ExprPtr b) {
    ExprPtr e = Node(ExprKind::kBinary);
    e->name = op;
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  Result<ExprPtr> Or() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, And());
    while (IsName("or")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(ExprPtr r, And());
      e = Binary("or", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> And() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Not());
    while (IsName("and")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(ExprPtr r, Not());
      e = Binary("and", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> Not() {
    if (IsName("not")) {
      if (++depth_ > kMaxNesting) return Fail("expression nested too deep");
      ++i_;
      ExprPtr e = Node(ExprKind::kUnary);
      e->name = "not";
      OC_ASSIGN_OR_RETURN(e->a, Not());
      --depth_;
      return e;
    }
    return Compare();
  }
  Result<ExprPtr> Compare() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Math1());
    for (;;) {
      std::string op;
      if (Peek().type == Tok::kOp && (Peek().text == "==" || Peek().text == "!=" || Peek().text == "<" ||
                                      Peek().text == ">" || Peek().text == "<=" || Peek().text == ">=")) {
        op = Peek().text;
        ++i_;
      } else if (IsName("in")) {
        op = "in";
        ++i_;
      } else if (IsName("not") && IsName("in", 1)) {
        op = "not in";
        i_ += 2;
      } else {
        return e;
      }
      OC_ASSIGN_OR_RETURN(ExprPtr r, Math1());
      e = Binary(op, std::move(e), std::move(r));
    }
  }
  Result<ExprPtr> Math1() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Concat());
    while (IsOp("+") || IsOp("-")) {
      const std::string op = t_[i_++].text;
      OC_ASSIGN_OR_RETURN(ExprPtr r, Concat());
      e = Binary(op, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> Concat() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Math2());
    while (IsOp("~")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(ExprPtr r, Math2());
      e = Binary("~", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> Math2() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Pow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const std::string op = t_[i_++].text;
      OC_ASSIGN_OR_RETURN(ExprPtr r, Pow());
      e = Binary(op, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> Pow() {
    OC_ASSIGN_OR_RETURN(ExprPtr e, Unary(true));
    while (IsOp("**")) {
      ++i_;
      OC_ASSIGN_OR_RETURN(ExprPtr r, Unary(true));
      e = Binary("**", std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> Unary(bool with_filter) {
    if (++depth_ > kMaxNesting) return Fail("expression nested too deep");
    ExprPtr e;
    if (IsOp("-") || IsOp("+")) {
      e = Node(ExprKind::kUnary);
      e->name = t_[i_++].text;
      OC_ASSIGN_OR_RETURN(e->a, Unary(false));
    } else {
      OC_ASSIGN_OR_RETURN(e, Primary());
    }
    OC_ASSIGN_OR_RETURN(e, Postfix(std::move(e)));
    if (with_filter) {
      OC_ASSIGN_OR_RETURN(e, FilterTests(std::move(e)));
    }
    --depth_;
    return e;
  }

  Result<ExprPtr> Primary();
  Result<ExprPtr> Collection(ExprPtr e);
  Result<ExprPtr> Postfix(ExprPtr e);
  Result<ExprPtr> FilterTests(ExprPtr e);
  Status Arguments(CallArgs* args);
  Result<ExprPtr> Subscript(ExprPtr obj);

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

Result<ExprPtr> Parser::Primary() {
  const Token& tk = Peek();
  ExprPtr e = Node(ExprKind::kLiteral);
  switch (tk.type) {
    case Tok::kName: {
      ++i_;
      const std::string& n = tk.text;
      if (n == "true" || n == "True") {
        e->value = Value(true);
      } else if (n == "false" || n == "False") {
        e->value = Value(false);
      } else if (n == "none" || n == "None") {
        e->value = Value::None();
      } else {
        e->kind = ExprKind::kName;
        e->name = n;
      }
      return e;
    }
    case Tok::kString: {
      std::string s;
      while (Peek().type == Tok::kString) s += t_[i_++].text;  // adjacent literals join
      e->value = Value(std::move(s));
      return e;
    }
    case Tok::kInt: {
      ++i_;
      int64_t v = 0;
      auto r = std::from_chars(tk.text.data(), tk.text.data() + tk.text.size(), v);
      if (r.ec != std::errc()) return Fail("integer out of range");
      e->value = Value(v);
      return e;
    }
    case Tok::kFloat: {
      ++i_;
      // As Python reads a float literal: too large is inf, too small is 0 (never an exception).
      e->value = Value(std::strtod(tk.text.c_str(), nullptr));
      return e;
    }
    default:
      break;
  }
  return Collection(std::move(e));
}

// ( ... ) (a parenthesized expression or a tuple), [ ... ], { ... }.
Result<ExprPtr> Parser::Collection(ExprPtr e) {
  const Token& tk = Peek();
  if (IsOp("(")) {
    ++i_;
    if (IsOp(")")) {
      ++i_;
      e->kind = ExprKind::kList;
      e->tuple = true;
      return e;
    }
    OC_ASSIGN_OR_RETURN(ExprPtr inner, Expression());
    if (IsOp(",")) {  // a tuple
      ExprPtr list = Node(ExprKind::kList);
      list->tuple = true;
      list->items.push_back(std::move(inner));
      while (IsOp(",")) {
        ++i_;
        if (IsOp(")")) break;
        OC_ASSIGN_OR_RETURN(ExprPtr item, Expression());
        list->items.push_back(std::move(item));
      }
      inner = std::move(list);
    }
    OC_RETURN_IF_ERROR(Expect(")"));
    return inner;
  }
  if (IsOp("[") || IsOp(kLBrace)) {
    const bool dict = IsOp(kLBrace);
    ++i_;
    e->kind = dict ? ExprKind::kDict : ExprKind::kList;
    const char* close = dict ? kRBrace : "]";
    while (!IsOp(close)) {
      OC_ASSIGN_OR_RETURN(ExprPtr item, Expression());
      e->items.push_back(std::move(item));
      if (dict) {
        OC_RETURN_IF_ERROR(Expect(":"));
        OC_ASSIGN_OR_RETURN(ExprPtr v, Expression());
        e->items.push_back(std::move(v));
      }
      if (!IsOp(",")) break;
      ++i_;
    }
    OC_RETURN_IF_ERROR(Expect(close));
    return e;
  }
  return Fail("unexpected '" + tk.text + "'");
}

Status Parser::Arguments(CallArgs* args) {
  OC_RETURN_IF_ERROR(Expect("("));
  while (!IsOp(")")) {
    if (Peek().type == Tok::kName && IsOp("=", 1)) {
      const std::string n = t_[i_].text;
      i_ += 2;
      OC_ASSIGN_OR_RETURN(ExprPtr v, Expression());
      args->keyword.emplace_back(n, std::move(v));
    } else {
      if (IsOp("*") || IsOp("**")) return Fail("*args and **kwargs in calls are not supported");
      OC_ASSIGN_OR_RETURN(ExprPtr v, Expression());
      args->positional.push_back(std::move(v));
    }
    if (!IsOp(",")) break;
    ++i_;
  }
  return Expect(")");
}

Result<ExprPtr> Parser::Subscript(ExprPtr obj) {
  ++i_;  // '['
  ExprPtr parts[3];
  int n_colons = 0;
  for (;;) {
    if (IsOp("]")) break;
    if (IsOp(":")) {
      if (++n_colons > 2) return Fail("bad slice");
      ++i_;
      continue;
    }
    OC_ASSIGN_OR_RETURN(parts[n_colons], Expression());
    if (!IsOp(":") && !IsOp("]")) return Fail("expected ':' or ']' in a subscript");
  }
  OC_RETURN_IF_ERROR(Expect("]"));
  ExprPtr e = Node(n_colons ? ExprKind::kSlice : ExprKind::kItem);
  e->a = std::move(obj);
  if (n_colons) {
    e->b = std::move(parts[0]);
    e->c = std::move(parts[1]);
    if (parts[2]) e->items.push_back(std::move(parts[2]));
  } else {
    if (!parts[0]) return Fail("empty subscript");
    e->b = std::move(parts[0]);
  }
  return e;
}

Result<ExprPtr> Parser::Postfix(ExprPtr e) {
  for (;;) {
    if (IsOp(".")) {
      ++i_;
      ExprPtr a = Node(ExprKind::kAttr);
      if (Peek().type == Tok::kInt) {  // x.0 means x[0]
        a->kind = ExprKind::kItem;
        ExprPtr idx = Node(ExprKind::kLiteral);
        const std::string& text = t_[i_++].text;
        int64_t v = 0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), v);
        if (r.ec != std::errc()) return Fail("integer out of range");
        idx->value = Value(v);
        a->b = std::move(idx);
      } else {
        OC_ASSIGN_OR_RETURN(a->name, Name());
      }
      a->a = std::move(e);
      e = std::move(a);
    } else if (IsOp("[")) {
      OC_ASSIGN_OR_RETURN(e, Subscript(std::move(e)));
    } else if (IsOp("(")) {
      ExprPtr c = Node(ExprKind::kCall);
      c->a = std::move(e);
      OC_RETURN_IF_ERROR(Arguments(&c->args));
      e = std::move(c);
    } else {
      return e;
    }
  }
}

Result<ExprPtr> Parser::FilterTests(ExprPtr e) {
  for (;;) {
    if (IsOp("|")) {
      ++i_;
      ExprPtr f = Node(ExprKind::kFilter);
      OC_ASSIGN_OR_RETURN(f->name, Name());
      while (IsOp(".")) {  // dotted filter names
        ++i_;
        OC_ASSIGN_OR_RETURN(std::string more, Name());
        f->name += "." + more;
      }
      if (IsOp("(")) OC_RETURN_IF_ERROR(Arguments(&f->args));
      f->a = std::move(e);
      e = std::move(f);
    } else if (IsName("is")) {
      ++i_;
      ExprPtr t = Node(ExprKind::kTest);
      if (IsName("not")) {
        t->negated = true;
        ++i_;
      }
      OC_ASSIGN_OR_RETURN(t->name, Name());
      if (IsOp("(")) {
        OC_RETURN_IF_ERROR(Arguments(&t->args));
      } else if ((Peek().type == Tok::kName && !IsName("else") && !IsName("or") && !IsName("and") && !IsName("if") &&
                  !IsName("in") && !IsName("not") && !IsName("is")) ||
                 Peek().type == Tok::kString || Peek().type == Tok::kInt || Peek().type == Tok::kFloat || IsOp("[") ||
                 IsOp("{")) {
        OC_ASSIGN_OR_RETURN(ExprPtr arg, Primary());
        OC_ASSIGN_OR_RETURN(arg, Postfix(std::move(arg)));
        t->args.positional.push_back(std::move(arg));
      }
      t->a = std::move(e);
      e = std::move(t);
    } else if (IsOp("(")) {
      ExprPtr c = Node(ExprKind::kCall);
      c->a = std::move(e);
      OC_RETURN_IF_ERROR(Arguments(&c->args));
      e = std::move(c);
    } else {
      return e;
    }
  }
}

}  // namespace

Result<std::shared_ptr<const Template>> ParseTemplate(std::string_view source) {
  OC_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  return Parser(std::move(tokens)).Run();
}

}  // namespace omnicoder::jinja
