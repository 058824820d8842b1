// The parsed template: expressions and statements as plain tagged nodes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace omnicoder::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,  // value
  kName,     // name
  kList,     // items (also tuples)
  kDict,     // items as key, value pairs
  kAttr,     // a.name
  kItem,     // a[b]
  kSlice,    // a[b:c:d]; absent parts are null
  kCall,     // a(args)
  kFilter,   // a | name(args)
  kTest,     // a is [not] name(args)
  kUnary,    // op a: "-", "+", "not"
  kBinary,   // a op b: arithmetic, "~", "and", "or", "in", "not in", comparisons
  kCond,     // b if a else c
};

struct CallArgs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  Value value;           // kLiteral
  std::string name;      // kName, kAttr, kFilter, kTest; the operator of kUnary/kBinary
  bool negated = false;  // kTest
  bool tuple = false;    // kList written with parentheses
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;  // kList; kDict: key, value, key, value, ...
  CallArgs args;               // kCall, kFilter, kTest
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

enum class StmtKind {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // conds[i] -> bodies[i]; bodies.back() is the else branch when longer
  kFor,          // targets in expr [if cond]: body, else_body
  kSet,          // targets (or ns.attr) = expr
  kSetBlock,     // {% set name %}body{% endset %}
  kMacro,        // name(params = defaults): body
  kFilterBlock,  // {% filter f(args) %}body
  kBreak,
  kContinue,
  kBody,  // {% generation %}: just its body
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;                  // kText; kSetBlock / kMacro name
  ExprPtr expr;                      // kOutput, kFor iterable, kSet value, kFilterBlock filter (a kFilter over null)
  ExprPtr cond;                      // kFor filter
  std::vector<std::string> targets;  // kFor / kSet names; kSet "ns.attr" is {"ns", "attr"} with attr_target
  bool attr_target = false;
  std::vector<ExprPtr> conds;  // kIf
  std::vector<Body> bodies;    // kIf
  Body body, else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro (default may be null)
};

struct Template {
  Body body;
};

}  // namespace omnicoder::jinja
