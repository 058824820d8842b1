#include "tokenizer/jinja/interp.h"

#include <cmath>

namespace omnicoder::jinja {

const Value* Scope::Find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

Status TemplateError(int line, const std::string& what) {
  return InvalidArgument("line " + std::to_string(line) + ": " + what);
}

Status UndefinedError(const Value& v) {
  return InvalidArgument(v.str_or_empty().empty() ? std::string("a value is undefined") : v.str_or_empty());
}

Status Interp::Step(int line) {
  if (++steps > limits.max_steps) return TemplateError(line, "the template runs too long");
  return Status::Ok();
}

Status Interp::Exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string* out, Flow* flow) {
  for (const auto& s : body) {
    OC_RETURN_IF_ERROR(ExecOne(*s, scope, out, flow));
    if (out->size() > limits.max_output_bytes) return TemplateError(s->line, "the output is too large");
    if (*flow != Flow::kNormal) return Status::Ok();
  }
  return Status::Ok();
}

Status Interp::ExecOne(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string* out, Flow* flow) {
  OC_RETURN_IF_ERROR(Step(s.line));
  switch (s.kind) {
    case StmtKind::kText:
      *out += s.text;
      return Status::Ok();
    case StmtKind::kOutput: {
      OC_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      *out += v.ToString();
      return Status::Ok();
    }
    case StmtKind::kIf:
      for (size_t i = 0; i < s.bodies.size(); ++i) {
        if (i < s.conds.size()) {
          OC_ASSIGN_OR_RETURN(Value c, Eval(*s.conds[i], scope));
          if (!c.Truthy()) continue;
        }
        return Exec(s.bodies[i], scope, out, flow);
      }
      return Status::Ok();
    case StmtKind::kFor:
      return ExecFor(s, scope, out);
    case StmtKind::kSet:
      return ExecSet(s, scope);
    case StmtKind::kSetBlock: {
      std::string captured;
      Flow f = Flow::kNormal;
      OC_RETURN_IF_ERROR(Exec(s.body, scope, &captured, &f));
      scope->vars[s.text] = Value(std::move(captured));
      return Status::Ok();
    }
    case StmtKind::kMacro:
      scope->vars[s.text] = MakeMacro(s, scope);
      return Status::Ok();
    case StmtKind::kFilterBlock: {
      std::string captured;
      Flow f = Flow::kNormal;
      OC_RETURN_IF_ERROR(Exec(s.body, scope, &captured, &f));
      FilterFn fn = FindFilter(s.expr->name);
      if (!fn) return TemplateError(s.line, "No filter named '" + s.expr->name + "'.");
      Args args;
      OC_RETURN_IF_ERROR(EvalArgs(s.expr->args, scope, &args));
      Result<Value> r = fn(*this, Value(std::move(captured)), args);
      if (!r.ok()) return TemplateError(s.line, r.status().message());
      *out += r.value().ToString();
      return Status::Ok();
    }
    case StmtKind::kBreak:
      *flow = Flow::kBreak;
      return Status::Ok();
    case StmtKind::kContinue:
      *flow = Flow::kContinue;
      return Status::Ok();
    case StmtKind::kBody:
      return Exec(s.body, scope, out, flow);
  }
  return Status::Ok();
}

namespace {

Status Unpack(const std::vector<std::string>& targets, const Value& item, Scope* into, int line) {
  if (targets.size() == 1) {
    into->vars[targets[0]] = item;
    return Status::Ok();
  }
  OC_ASSIGN_OR_RETURN(List parts, Iterate(item));
  if (parts.size() != targets.size()) {
    return TemplateError(line, "cannot unpack " + std::to_string(parts.size()) + " values into " +
                                   std::to_string(targets.size()) + " names");
  }
  for (size_t i = 0; i < targets.size(); ++i) into->vars[targets[i]] = parts[i];
  return Status::Ok();
}

Value LoopObject(const List& items, size_t i) {
  auto d = std::make_shared<Dict>();
  const int64_t n = static_cast<int64_t>(items.size()), k = static_cast<int64_t>(i);
  d->Set("index", Value(k + 1));
  d->Set("index0", Value(k));
  d->Set("revindex", Value(n - k));
  d->Set("revindex0", Value(n - k - 1));
  d->Set("first", Value(k == 0));
  d->Set("last", Value(k == n - 1));
  d->Set("length", Value(n));
  d->Set("depth", Value(1));
  d->Set("depth0", Value(0));
  d->Set("previtem", i > 0 ? items[i - 1] : Value::Undefined("there is no previous item"));
  d->Set("nextitem", i + 1 < items.size() ? items[i + 1] : Value::Undefined("there is no next item"));
  d->Set("cycle", Value(
                      [k](Interp&, Args& a) -> Result<Value> {
                        if (a.positional.empty()) return InvalidArgument("no items for cycling given");
                        return a.positional[static_cast<size_t>(k) % a.positional.size()];
                      },
                      "cycle"));
  return Value(d);
}

}  // namespace

Status Interp::ExecFor(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string* out) {
  OC_ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr, scope));
  Result<List> all = Iterate(iterable);
  if (!all.ok()) return TemplateError(s.line, all.status().message());
  List items;
  if (s.cond) {  // {% for x in xs if cond %}: filtered before loop.* is computed
    for (const Value& item : all.value()) {
      auto probe = std::make_shared<Scope>();
      probe->parent = scope;
      OC_RETURN_IF_ERROR(Unpack(s.targets, item, probe.get(), s.line));
      OC_ASSIGN_OR_RETURN(Value keep, Eval(*s.cond, probe));
      if (keep.Truthy()) items.push_back(item);
    }
  } else {
    items = std::move(all).value();
  }
  if (items.empty()) {
    Flow f = Flow::kNormal;
    return Exec(s.else_body, scope, out, &f);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    OC_RETURN_IF_ERROR(Step(s.line));
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    OC_RETURN_IF_ERROR(Unpack(s.targets, items[i], inner.get(), s.line));
    inner->vars["loop"] = LoopObject(items, i);
    Flow f = Flow::kNormal;
    OC_RETURN_IF_ERROR(Exec(s.body, inner, out, &f));
    if (f == Flow::kBreak) break;
  }
  return Status::Ok();
}

Interp::~Interp() {
  for (const std::weak_ptr<Dict>& w : namespaces) {
    if (std::shared_ptr<Dict> d = w.lock()) d->items.clear();
  }
}

Status Interp::ExecSet(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  OC_ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
  if (s.attr_target) {
    const Value* ns = scope->Find(s.targets[0]);
    if (!ns || !ns->is_namespace()) {
      return TemplateError(s.line, "cannot assign attribute on non-namespace object");
    }
    ns->mutable_dict().Set(s.targets[1], std::move(v));
    return Status::Ok();
  }
  return Unpack(s.targets, v, scope.get(), s.line);
}

Value Interp::MakeMacro(const Stmt& s, const std::shared_ptr<Scope>& scope) {
  const Stmt* def = &s;
  std::weak_ptr<Scope> weak = scope;  // the defining scope outlives the render's calls
  return Value(
      [def, weak](Interp& in, Args& args) -> Result<Value> {
        std::shared_ptr<Scope> parent = weak.lock();
        if (++in.call_depth > in.limits.max_call_depth) return TemplateError(def->line, "macro calls nest too deep");
        auto local = std::make_shared<Scope>();
        local->parent = parent;
        if (args.positional.size() > def->params.size()) {
          return TemplateError(def->line, "macro '" + def->text + "' takes not more than " +
                                              std::to_string(def->params.size()) + " argument(s)");
        }
        for (size_t i = 0; i < def->params.size(); ++i) {
          const auto& [name, fallback] = def->params[i];
          Value v = args.Get(i, name, Value::Undefined("'" + name + "' is undefined"));
          if (v.is_undefined() && i >= args.positional.size() && fallback) {
            OC_ASSIGN_OR_RETURN(v, in.Eval(*fallback, local));
          }
          local->vars[name] = v;
        }
        std::string out;
        Flow f = Flow::kNormal;
        Status st = in.Exec(def->body, local, &out, &f);
        --in.call_depth;
        OC_RETURN_IF_ERROR(st);
        return Value(std::move(out));
      },
      s.text);
}

Status Interp::EvalArgs(const CallArgs& ca, const std::shared_ptr<Scope>& scope, Args* args) {
  for (const auto& e : ca.positional) {
    OC_ASSIGN_OR_RETURN(Value v, Eval(*e, scope));
    args->positional.push_back(std::move(v));
  }
  for (const auto& [k, e] : ca.keyword) {
    OC_ASSIGN_OR_RETURN(Value v, Eval(*e, scope));
    args->keyword.emplace_back(k, std::move(v));
  }
  return Status::Ok();
}

Result<Value> Interp::EvalCall(const Expr& e, const std::shared_ptr<Scope>& scope) {
  OC_ASSIGN_OR_RETURN(Value fn, Eval(*e.a, scope));
  if (fn.is_undefined()) return TemplateError(e.line, UndefinedError(fn).message());
  if (fn.kind() != Kind::kFunction)
    return TemplateError(e.line, std::string("'") + fn.TypeName() + "' object is not callable");
  Args args;
  OC_RETURN_IF_ERROR(EvalArgs(e.args, scope, &args));
  Result<Value> r = fn.fn()(*this, args);
  if (!r.ok() && r.status().message().rfind("line ", 0) != 0) return TemplateError(e.line, r.status().message());
  return r;
}

Result<Value> Interp::Eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.value;
    case ExprKind::kName: {
      const Value* v = scope->Find(e.name);
      return v ? *v : Value::Undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::kList: {
      List items;
      for (const auto& i : e.items) {
        OC_ASSIGN_OR_RETURN(Value v, Eval(*i, scope));
        items.push_back(std::move(v));
      }
      return e.tuple ? Value(std::move(items)).AsTuple() : Value(std::move(items));
    }
    case ExprKind::kDict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        OC_ASSIGN_OR_RETURN(Value k, Eval(*e.items[i], scope));
        OC_ASSIGN_OR_RETURN(Value v, Eval(*e.items[i + 1], scope));
        d->Set(DictKey(k), std::move(v));
      }
      return Value(d);
    }
    case ExprKind::kAttr: {
      OC_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      Result<Value> r = GetAttr(obj, e.name);
      if (!r.ok()) return TemplateError(e.line, r.status().message());
      return r;
    }
    case ExprKind::kItem: {
      OC_ASSIGN_OR_RETURN(Value obj, Eval(*e.a, scope));
      OC_ASSIGN_OR_RETURN(Value key, Eval(*e.b, scope));
      Result<Value> r = GetItem(obj, key);
      if (!r.ok()) return TemplateError(e.line, r.status().message());
      return r;
    }
    case ExprKind::kSlice:
    case ExprKind::kFilter:
    case ExprKind::kTest:
    case ExprKind::kUnary:
    case ExprKind::kBinary:
      return EvalBinary(e, scope);
    case ExprKind::kCall:
      return EvalCall(e, scope);
    case ExprKind::kCond: {
      OC_ASSIGN_OR_RETURN(Value c, Eval(*e.a, scope));
      if (c.Truthy()) return Eval(*e.b, scope);
      if (e.c) return Eval(*e.c, scope);
      return Value::Undefined("the inline if expression evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

}  // namespace omnicoder::jinja
