// The Jinja engine's own guarantees (its output is compared with python3-jinja2 by the
// chat_template_conformance test): errors are Status values with a line, hostile
// templates hit limits instead of exhausting memory, time or the stack.
#include <gtest/gtest.h>

#include <string>

#include "omnicoder/omnicoder.h"
#include "tokenizer/jinja/template.h"

namespace omnicoder::jinja {
namespace {

const char kContext[] = R"({"messages": [{"role": "user", "content": "hi"}], "n": 3})";

Result<std::string> R(const std::string& tpl, RenderOptions o = {}) {
  return Render(tpl, std::string_view(kContext), o);
}

TEST(Jinja, RendersAndReportsErrorsWithLines) {
  ASSERT_TRUE(R("{{ messages[0].content }}").ok());
  EXPECT_EQ(R("{{ messages[0].content }}").value(), "hi");
  Result<std::string> r = R("line one\n{{ messages[0].nope.deeper }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("has no attribute 'nope'"), std::string::npos) << r.status().message();
  for (const char* bad : {"{% for x in y %}", "{{ 1 + }}", "{% endif %}", "{{ 'unterminated }}", "{% bogus %}",
                          "{{ x | nofilter }}", "{% if %}{% endif %}", "{{ (1, 2 }}", "{# never closed"}) {
    EXPECT_FALSE(R(bad).ok()) << bad;
  }
}

TEST(Jinja, RaiseExceptionCarriesTheTemplatesMessage) {
  Result<std::string> r = R("{{ raise_exception('roles must alternate') }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("raise_exception: roles must alternate"), std::string::npos);
}

// Numbers beyond int64/double in a template are errors or Python's values, never an
// uncaught exception (each of these once aborted the fuzzer).
TEST(Jinja, HugeNumbersAreErrorsOrPythonsValues) {
  EXPECT_FALSE(R("{{ messages.99999999999999999999 }}").ok());
  EXPECT_FALSE(R("{{ 99999999999999999999 }}").ok());
  EXPECT_FALSE(R("{{ messages[0444444e444444444444444].missing.deeper }}").ok());
  EXPECT_FALSE(R("{{ '{99999999999999999999999}'.format(1) }}").ok());
  EXPECT_EQ(R("{{ 1e999 }}").value(), "inf");
  EXPECT_EQ(R("{{ 1e-999 }}").value(), "0.0");
  EXPECT_EQ(R("{{ '{1}'.format(2, 3) }}").value(), "3");
  // Floats beyond int64 never reach a C++ cast (UBSan's float-cast-overflow).
  EXPECT_FALSE(R("{{ '1e300' | int }}").ok());
  EXPECT_EQ(R("{{ '1e3' | int }}").value(), "1000");
  EXPECT_EQ(R("{{ [1, 2][1e300] is undefined }}").value(), "True");
  EXPECT_FALSE(R("{{ (-9223372036854775807 - 1) | abs }}").ok());
  // Integer results beyond 64 bits are errors (Python goes to big integers), never a
  // wrapped value or undefined behaviour (UBSan: the fuzzer's 2 ** 74); exact ones stay.
  for (const char* big :
       {"{{ 2 ** 74 }}", "{{ 3 ** 40 }}", "{{ 9223372036854775807 + 1 }}", "{{ -9223372036854775807 - 2 }}",
        "{{ 4611686018427387904 * 2 }}", "{{ -(-9223372036854775807 - 1) }}", "{{ (-9223372036854775807 - 1) // -1 }}",
        "{{ 'abcd' * 4611686018427387904 }}", "{{ [9223372036854775807, 1] | sum }}"}) {
    EXPECT_FALSE(R(big).ok()) << big;
  }
  EXPECT_EQ(R("{{ 2 ** 62 }}").value(), "4611686018427387904");
  EXPECT_EQ(R("{{ (-2) ** 63 }}").value(), "-9223372036854775808");
  EXPECT_EQ(R("{{ (-1) ** 65 }} {{ 1 ** 1000 }} {{ 0 ** 0 }}").value(), "-1 1 1");
  EXPECT_EQ(R("{{ (-9223372036854775807 - 1) % -1 }} {{ 9223372036854775807 % -2 }}").value(), "0 -1");
  EXPECT_EQ(R("{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 // -3 }}").value(), "-4 2 -2 -3");
  EXPECT_EQ(R("{{ range(9223372036854775800, 9223372036854775807, 100) | list }}").value(), "[9223372036854775800]");
}

TEST(Jinja, HostileTemplatesHitLimits) {
  RenderOptions o;
  o.limits.max_steps = 100000;
  o.limits.max_output_bytes = 1 << 20;
  // Exponential macro recursion, huge loops, output and string growth, deep nesting.
  EXPECT_FALSE(R("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", o).ok());
  EXPECT_FALSE(R("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", o).ok());
  EXPECT_FALSE(R("{% for a in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", o).ok());
  EXPECT_FALSE(
      R("{% set ns = namespace(s='x') %}{% for a in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", o).ok());
  EXPECT_FALSE(R("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}", o).ok());
  EXPECT_FALSE(R("{{ " + std::string(3000, '[') + std::string(3000, ']') + " }}", o).ok());
  std::string deep_if;
  for (int i = 0; i < 1000; ++i) deep_if += "{% if true %}";
  EXPECT_FALSE(R(deep_if, o).ok());
  // A value nested deeper than printing goes prints with an ellipsis, not a stack overflow.
  Result<std::string> r =
      R("{% set ns = namespace(v=[]) %}{% for a in range(5000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}", o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NE(r.value().find("..."), std::string::npos);
}

// A namespace that comes to hold itself (directly, or through lists) is emptied when the
// render ends, whether it succeeds or fails: the cycle of shared pointers does not leak
// (LeakSanitizer checks this test in the ASan build; the chat-template fuzzer found it).
TEST(Jinja, SelfReferencingNamespacesDoNotLeak) {
  Result<std::string> r =
      R("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.l = [ns, [ns]] %}"
        "{% set other = namespace(back=ns) %}{% set ns.o = other %}{{ ns.a }}{{ ns.me.a }}{{ ns.l[1][0].o.back.a }}");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), "111");
  EXPECT_FALSE(R("{% set ns = namespace() %}{% set ns.me = ns %}{{ raise_exception('stop') }}").ok());
}

TEST(Jinja, PublicRenderChatTemplate) {
  ChatTemplateInput in;
  in.messages_json = R"([{"role": "user", "content": "Q"}])";
  in.bos_token = "<s>";
  in.now = 0;
  Result<std::string> r = RenderChatTemplate(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}{{ tools is none }}",
      in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value(), "<s>[user]Q[assistant]True");
  in.messages_json = "{not json";
  EXPECT_FALSE(RenderChatTemplate("x", in).ok());
}

}  // namespace
}  // namespace omnicoder::jinja
