// Evaluating a parsed template: scopes, statements, expressions, and the tables of
// builtin filters, tests, methods and globals (Jinja2's, with Hugging Face's tojson,
// raise_exception and strftime_now, in an immutable sandbox: mutating methods fail).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/jinja/ast.h"

namespace omnicoder::jinja {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  const Value* Find(const std::string& name) const;
};

struct RenderLimits {
  size_t max_output_bytes = 16u << 20;
  uint64_t max_steps = 50'000'000;  // statements + loop iterations
  int max_call_depth = 200;
};

enum class Flow { kNormal, kBreak, kContinue };

struct Interp {
  RenderLimits limits;
  int64_t now = 0;                      // strftime_now's time (unix seconds)
  std::shared_ptr<const Template> tpl;  // keeps macro bodies alive
  uint64_t steps = 0;
  int call_depth = 0;
  std::string raised;  // raise_exception's message, when that ended the render
  // Every namespace() of the render. A namespace can come to hold itself (`set ns.me = ns`,
  // or through a list): the destructor empties them all, so such a cycle of shared
  // pointers does not outlive the render.
  std::vector<std::weak_ptr<Dict>> namespaces;

  Interp() = default;
  Interp(const Interp&) = delete;
  Interp& operator=(const Interp&) = delete;
  ~Interp();

  Status Exec(const Body& body, const std::shared_ptr<Scope>& scope, std::string* out, Flow* flow);
  Result<Value> Eval(const Expr& e, const std::shared_ptr<Scope>& scope);
  Status Step(int line);

 private:
  Status ExecOne(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string* out, Flow* flow);
  Status ExecFor(const Stmt& s, const std::shared_ptr<Scope>& scope, std::string* out);
  Status ExecSet(const Stmt& s, const std::shared_ptr<Scope>& scope);
  Value MakeMacro(const Stmt& s, const std::shared_ptr<Scope>& scope);
  Result<Value> EvalBinary(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> EvalFilterTestUnary(const Expr& e, const std::shared_ptr<Scope>& scope);
  Result<Value> EvalCall(const Expr& e, const std::shared_ptr<Scope>& scope);
  Status EvalArgs(const CallArgs& ca, const std::shared_ptr<Scope>& scope, Args* args);
};

// Errors carry the template line.
Status TemplateError(int line, const std::string& what);

// Builtins (builtins_*.cc). Each returns NotFound-free errors with the Python message.
using FilterFn = Result<Value> (*)(Interp&, const Value&, const Args&);
using TestFn = Result<bool> (*)(Interp&, const Value&, const Args&);
FilterFn FindFilter(const std::string& name);
TestFn FindTest(const std::string& name);
// obj.name: a dict's key or method, a string's or list's method; Undefined when absent.
Result<Value> GetAttr(const Value& obj, const std::string& name);
// obj[key]: dict key, list or string index; Undefined when absent.
Result<Value> GetItem(const Value& obj, const Value& key);
// The global functions: range, namespace, dict, raise_exception, strftime_now.
void AddGlobals(Scope* scope);
// Iteration as Python does it: list items, dict keys, string characters.
Result<List> Iterate(const Value& v);
// Python's len() (undefined: 0).
Result<int64_t> Length(const Value& v);
// Python str methods that filters also use.
std::string PyStrip(const std::string& s, const Value& chars, bool left, bool right);
// Python's str.title() and str.capitalize() (ASCII letters change case).
std::string TitleCase(const std::string& s);
std::string Capitalize(const std::string& s);
// Python's "fmt % args" (%s, %r, %d, %i, %f, %%).
Result<Value> PercentFormat(const std::string& fmt, const Value& args);
// A template value's "x is undefined" error.
Status UndefinedError(const Value& v);

}  // namespace omnicoder::jinja
