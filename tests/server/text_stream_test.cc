// TextStream: stop strings across token boundaries, UTF-8 held until whole; request limits.
#include "apps/server/text_stream.h"

#include <gtest/gtest.h>

#include "apps/server/http_server.h"
#include "apps/server/request.h"

namespace omnicoder::server {
namespace {

std::string PushAll(TextStream& ts, const std::vector<std::string>& pieces, bool* stopped) {
  std::string out;
  for (const std::string& p : pieces) {
    out += ts.Push(p, stopped);
    if (*stopped) return out;
  }
  return out + ts.Flush();
}

TEST(TextStream, StopAcrossTokenBoundaries) {
  TextStream ts({"\n\nclass"});
  bool stopped = false;
  std::string sent;
  sent += ts.Push("x = 1\n", &stopped);
  EXPECT_EQ(sent, "x = 1");  // "\n" could start the stop string: held back
  sent += ts.Push("\ncl", &stopped);
  EXPECT_EQ(sent, "x = 1");
  sent += ts.Push("ass Foo", &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(sent, "x = 1");
}

TEST(TextStream, HeldTextIsReleasedWhenItStopsMatching) {
  TextStream ts({"END"});
  bool stopped = false;
  std::string sent = ts.Push("abcE", &stopped);
  EXPECT_EQ(sent, "abc");
  sent += ts.Push("Nx", &stopped);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(sent, "abcENx");
}

TEST(TextStream, EarliestOfSeveralStopsWins) {
  TextStream ts({"world", "lo w"});
  bool stopped = false;
  EXPECT_EQ(PushAll(ts, {"hel", "lo wor", "ld"}, &stopped), "hel");
  EXPECT_TRUE(stopped);
}

TEST(TextStream, Utf8IsHeldUntilComplete) {
  TextStream ts({});
  bool stopped = false;
  const std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(ts.Push("a\xE2", &stopped), "a");
  EXPECT_EQ(ts.Push("\x82", &stopped), "");
  EXPECT_EQ(ts.Push("\xAC!", &stopped), euro + "!");
  EXPECT_EQ(ts.Push("\xF0\x9F", &stopped), "");
  EXPECT_EQ(ts.Flush(), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short: replaced, never sent raw
}

TEST(TextStream, InvalidBytesAreReplaced) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b\xC0\xAF"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(IncompleteUtf8Tail("ab\xF0\x9F\x98"), 3u);
  EXPECT_EQ(IncompleteUtf8Tail("ab\xF0\x9F\x98\x80"), 0u);
}

TEST(Request, DepthIsCountedOutsideStrings) {
  EXPECT_EQ(JsonDepth(R"({"a": [1, {"b": "[[[[{{{"}]})", 10), 3);
  EXPECT_EQ(JsonDepth(std::string(100000, '['), 64), 65);
  EXPECT_EQ(JsonDepth(R"({"a": "\"[[["})", 10), 1);
}

TEST(Request, FieldsAreCheckedWithTheirNames) {
  auto err = [](Endpoint e, const std::string& body) {
    Result<ParsedRequest> r = ParseRequest(e, body, 100);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(err(Endpoint::kChat, R"({"messages": [{"role": "user", "content": "hi"}]})"), "ok");
  EXPECT_NE(err(Endpoint::kChat, R"({"messages": []})").find("'messages'"), std::string::npos);
  EXPECT_NE(err(Endpoint::kChat, R"({"messages": [{"role": "wizard", "content": "x"}]})").find("not a role"),
            std::string::npos);
  EXPECT_NE(err(Endpoint::kChat, R"({"messages": [{"role": "user", "content": 5}]})").find("content"),
            std::string::npos);
  EXPECT_NE(err(Endpoint::kChat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})")
                .find("'temperature'"),
            std::string::npos);
  EXPECT_NE(err(Endpoint::kChat, R"({"messages": [{"role": "user", "content": "x"}], "n": 2})").find("'n'"),
            std::string::npos);
  EXPECT_NE(
      err(Endpoint::kChat, R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3})").find("logprobs"),
      std::string::npos);
  EXPECT_NE(err(Endpoint::kCompletion, R"({"prompt": [1, 2, 100]})").find("outside [0, 100)"), std::string::npos);
  EXPECT_NE(err(Endpoint::kCompletion, R"({"prompt": "x", "max_tokens": 0})").find("'max_tokens'"), std::string::npos);
  EXPECT_NE(err(Endpoint::kCompletion, "{\"prompt\": \"\xff\"}").find("not valid JSON"), std::string::npos);
  Result<ParsedRequest> r = ParseRequest(
      Endpoint::kCompletion, R"({"prompt": ["hi"], "stop": ["a", "b"], "seed": 7, "logprobs": 2, "top_k": 5})", 100);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().prompt_text, "hi");
  EXPECT_EQ(r.value().params.stop.size(), 2u);
  EXPECT_EQ(r.value().params.sampling.seed, 7u);
  EXPECT_EQ(r.value().params.top_logprobs, 2);
  EXPECT_EQ(r.value().params.sampling.top_k, 5);
}

TEST(Request, ApiKeyComparisonIsExact) {
  EXPECT_TRUE(SecureEquals("secret", "secret"));
  EXPECT_FALSE(SecureEquals("secret", "secreT"));
  EXPECT_FALSE(SecureEquals("secret", "secret2"));
  EXPECT_FALSE(SecureEquals("", "x"));
}

}  // namespace
}  // namespace omnicoder::server
