#include "tokenizer/jinja/template.h"

#include "tokenizer/jinja/parser.h"

namespace omnicoder::jinja {

namespace {

// Jinja2 refuses an unknown filter or test when it compiles the template, unless it sits
// in an if statement or an inline if ("soft" frames): there it fails only when reached.
Status CheckNames(const Expr& e, bool soft) {
  if (!soft && e.kind == ExprKind::kFilter && !FindFilter(e.name)) {
    return TemplateError(e.line, "No filter named '" + e.name + "'.");
  }
  if (!soft && e.kind == ExprKind::kTest && !FindTest(e.name)) {
    return TemplateError(e.line, "No test named '" + e.name + "'.");
  }
  const bool inner_soft = soft || e.kind == ExprKind::kCond;
  for (const Expr* c : {e.a.get(), e.b.get(), e.c.get()}) {
    if (c) OC_RETURN_IF_ERROR(CheckNames(*c, inner_soft));
  }
  for (const auto& i : e.items) OC_RETURN_IF_ERROR(CheckNames(*i, inner_soft));
  for (const auto& i : e.args.positional) OC_RETURN_IF_ERROR(CheckNames(*i, inner_soft));
  for (const auto& [k, i] : e.args.keyword) OC_RETURN_IF_ERROR(CheckNames(*i, inner_soft));
  return Status::Ok();
}

Status CheckNames(const Body& body, bool soft) {
  for (const auto& s : body) {
    const bool branch = s->kind == StmtKind::kIf;
    const bool inner = s->kind == StmtKind::kFor || s->kind == StmtKind::kMacro || s->kind == StmtKind::kSetBlock ||
                       s->kind == StmtKind::kFilterBlock;
    if (s->expr && s->kind != StmtKind::kFilterBlock) OC_RETURN_IF_ERROR(CheckNames(*s->expr, soft));
    if (s->kind == StmtKind::kFilterBlock && !soft && !FindFilter(s->expr->name)) {
      return TemplateError(s->line, "No filter named '" + s->expr->name + "'.");
    }
    if (s->cond) OC_RETURN_IF_ERROR(CheckNames(*s->cond, false));
    for (const auto& c : s->conds) OC_RETURN_IF_ERROR(CheckNames(*c, true));
    for (const auto& b : s->bodies) OC_RETURN_IF_ERROR(CheckNames(b, soft || branch));
    for (const auto& [p, d] : s->params) {
      if (d) OC_RETURN_IF_ERROR(CheckNames(*d, false));
    }
    OC_RETURN_IF_ERROR(CheckNames(s->body, inner ? false : soft));
    OC_RETURN_IF_ERROR(CheckNames(s->else_body, false));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> Render(std::string_view source, std::string_view context_json, const RenderOptions& options) {
  OC_ASSIGN_OR_RETURN(Value ctx, ParseJson(context_json));
  return Render(source, ctx, options);
}

Result<std::string> Render(std::string_view source, const Value& ctx, const RenderOptions& options) {
  if (!ctx.is_dict()) return InvalidArgument("the template context must be a JSON object");
  OC_ASSIGN_OR_RETURN(std::shared_ptr<const Template> tpl, ParseTemplate(source));
  OC_RETURN_IF_ERROR(CheckNames(tpl->body, false));
  auto globals = std::make_shared<Scope>();
  AddGlobals(globals.get());
  auto top = std::make_shared<Scope>();
  top->parent = globals;
  for (const auto& [k, v] : ctx.dict().items) top->vars[k] = v;
  Interp in;
  in.limits = options.limits;
  in.now = options.now;
  in.tpl = tpl;
  std::string out;
  Flow flow = Flow::kNormal;
  OC_RETURN_IF_ERROR(in.Exec(tpl->body, top, &out, &flow));
  return out;
}

}  // namespace omnicoder::jinja
