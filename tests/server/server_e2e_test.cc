// `omnicoder serve` end to end on the shipped nano model: OpenAI shapes, the same text as
// `omnicoder run`, streaming, stops, logprobs, prefix reuse, keys, CORS, queue limits,
// clients that vanish, and hostile requests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/common/shell.h"
#include "tests/server/server_test_util.h"

namespace omnicoder::testing {
namespace {

const std::string kBin = std::string(OC_BIN_DIR) + "/omnicoder";

std::string RunGreedy(const std::string& prompt, int n) {
  std::string q = "'";
  for (char c : prompt) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  q += "'";
  ShellOutput o =
      RunShell(kBin + " run -m " + kNano + " -t 1 --temp 0 -n " + std::to_string(n) + " -p " + q + " 2>/dev/null");
  return o.out;
}

json Completion(int port, const json& body) {
  const Reply r = Post(port, "/v1/completions", body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.Json();
}

class Server : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"-m", kNano, "--port", "0", "-t", "1", "--parallel", "4"});
    ASSERT_TRUE(server_->ok()) << server_->log();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << server_->log();
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port(); }
  static ServerProcess* server_;
};
ServerProcess* Server::server_ = nullptr;

const std::vector<std::string> kPrompts = {"def fibonacci(n):\n", "import os\n\n\ndef walk(root):\n",
                                           "class Stack:\n    def __init__(self):\n",
                                           "# Parse a CSV file\nimport csv\n"};

TEST_F(Server, HealthModelsAndMetrics) {
  EXPECT_EQ(Get(port(), "/health").status, 200);
  const json models = Get(port(), "/v1/models").Json();
  ASSERT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "omnicoder-nano");
  const Reply m = Get(port(), "/metrics");
  EXPECT_NE(m.body.find("omnicoder_busy_slots 0"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("omnicoder_slots 4"), std::string::npos);
}

TEST_F(Server, GreedyTextIsRunsText) {
  for (const std::string& p : {kPrompts[0], kPrompts[2]}) {
    const json j = Completion(port(), {{"prompt", p}, {"max_tokens", 40}, {"temperature", 0}});
    EXPECT_EQ(j["object"], "text_completion");
    EXPECT_EQ(j["choices"][0]["text"].get<std::string>(), RunGreedy(p, 40)) << p;
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 40);
  }
}

TEST_F(Server, ConcurrentRequestsGetTheTextTheyGetAlone) {
  std::vector<std::string> alone;
  for (const std::string& p : kPrompts) {
    alone.push_back(Completion(port(), {{"prompt", p}, {"max_tokens", 48}, {"temperature", 0}})["choices"][0]["text"]);
  }
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> together(kPrompts.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      threads.emplace_back([&, i] {
        together[i] =
            Completion(port(), {{"prompt", kPrompts[i]}, {"max_tokens", 48}, {"temperature", 0}})["choices"][0]["text"];
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < kPrompts.size(); ++i) EXPECT_EQ(together[i], alone[i]) << kPrompts[i];
  }
}

TEST_F(Server, StreamingChunksAddUpToTheWholeReply) {
  const json body = {{"messages", {{{"role", "user"}, {"content", "Write a function"}}}},
                     {"max_tokens", 30},
                     {"seed", 11},
                     {"temperature", 0.8}};
  const json whole = Post(port(), "/v1/chat/completions", body.dump()).Json();
  ASSERT_EQ(whole["object"], "chat.completion") << whole.dump();
  json sbody = body;
  sbody["stream"] = true;
  sbody["stream_options"] = {{"include_usage", true}};
  const Reply r = Post(port(), "/v1/chat/completions", sbody.dump());
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Type")->second.find("text/event-stream"), std::string::npos);
  const std::vector<std::string> data = SseData(r.body);
  ASSERT_GE(data.size(), 4u) << r.body;
  EXPECT_EQ(data.back(), "[DONE]");
  std::string text;
  std::string finish;
  json usage;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    const json c = json::parse(data[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], json::parse(data[0])["id"]);
    if (i == 0) {
      EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    }
    if (c.contains("usage")) {
      usage = c["usage"];
      EXPECT_TRUE(c["choices"].empty());
      continue;
    }
    const json& ch = c["choices"][0];
    if (ch["delta"].contains("content")) text += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(finish, whole["choices"][0]["finish_reason"].get<std::string>());
  EXPECT_EQ(usage["completion_tokens"], whole["usage"]["completion_tokens"]);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);
}

TEST_F(Server, StopStringsMatchAcrossTokens) {
  const std::string full = RunGreedy(kPrompts[0], 40);
  // A stop string that starts inside one token and ends inside a later one.
  const size_t at = full.find("fibonacci");
  ASSERT_NE(at, std::string::npos) << full;
  const std::string stop = full.substr(at + 3, 7);
  const json j = Completion(port(), {{"prompt", kPrompts[0]}, {"max_tokens", 40}, {"temperature", 0}, {"stop", stop}});
  EXPECT_EQ(j["choices"][0]["text"].get<std::string>(), full.substr(0, full.find(stop)));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  json s = {{"prompt", kPrompts[0]}, {"max_tokens", 40}, {"temperature", 0}, {"stop", {"zzz", stop}}, {"stream", true}};
  const Reply r = Post(port(), "/v1/completions", s.dump());
  std::string text;
  for (const std::string& d : SseData(r.body)) {
    if (d != "[DONE]") text += json::parse(d)["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(text, full.substr(0, full.find(stop)));
}

TEST_F(Server, LogprobsAreLogProbabilities) {
  const json j = Post(port(), "/v1/chat/completions",
                      json{{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                           {"max_tokens", 5},
                           {"temperature", 0},
                           {"logprobs", true},
                           {"top_logprobs", 3}}
                          .dump())
                     .Json();
  const json& content = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u) << j.dump();
  for (const json& t : content) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_EQ(t["token"], t["top_logprobs"][0]["token"]);  // greedy takes the most likely
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
  }
  const json c = Completion(port(), {{"prompt", "x = "}, {"max_tokens", 3}, {"logprobs", 2}, {"temperature", 0}});
  EXPECT_EQ(c["choices"][0]["logprobs"]["token_logprobs"].size(), 3u) << c.dump();
}

TEST_F(Server, PromptPrefixIsReused) {
  std::string prompt = "# utilities\n";
  for (int i = 0; i < 20; ++i)
    prompt += "def f" + std::to_string(i) + "(x):\n    return x + " + std::to_string(i) + "\n\n";
  const json a = Completion(port(), {{"prompt", prompt}, {"max_tokens", 8}, {"temperature", 0}});
  const json b = Completion(port(), {{"prompt", prompt}, {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
  const int n = b["usage"]["prompt_tokens"];
  EXPECT_EQ(b["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), n - 1) << b.dump();
}

TEST_F(Server, TokenizeAndDetokenize) {
  const json t = Post(port(), "/tokenize", R"({"content": "def main():"})").Json();
  ASSERT_TRUE(t["tokens"].is_array()) << t.dump();
  const json d = Post(port(), "/detokenize", json{{"tokens", t["tokens"]}}.dump()).Json();
  EXPECT_EQ(d["content"], "def main():");
}

TEST_F(Server, HostileRequestsGet4xxAndTheServerKeepsServing) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const std::string chat = "/v1/chat/completions", comp = "/v1/completions";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {chat, "not json"},
      {chat, "[]"},
      {chat, "{}"},
      {chat, R"({"messages": "hi"})"},
      {chat, R"({"messages": [{"role": "root", "content": "x"}]})"},
      {chat, R"({"messages": [{"role": "user"}]})"},
      {chat, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": 1e309})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "top_p": 0})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "stop": [1, 2]})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "n": 3})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 50, "logprobs": true})"},
      {chat, R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})"},
      {chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\x28\"}]}"},
      {chat, "{\"messages\": " + deep + "}"},
      {comp, R"({"prompt": [99999999]})"},
      {comp, R"({"prompt": [-1]})"},
      {comp, R"({"prompt": [[1, 2], [3]]})"},
      {comp, R"({"prompt": "x", "logprobs": 9})"},
      {comp, R"({"prompt": "x", "echo": true})"},
      {comp, R"({"prompt": "x", "seed": "abc"})"},
      {comp, R"({"prompt": null})"},
      {"/tokenize", R"({"content": 5})"},
      {"/detokenize", R"({"tokens": [1, "a"]})"},
      {"/detokenize", R"({"tokens": [100000000]})"},
      {"/v1/nothing", "{}"},
  };
  std::string long_prompt;
  for (int i = 0; i < 3000; ++i) long_prompt += "word" + std::to_string(i) + " ";
  int n = 0;
  for (int round = 0; round < 7; ++round) {
    for (const auto& [path, body] : cases) {
      const Reply r = Post(port(), path, body);
      EXPECT_GE(r.status, 400) << path << " " << body.substr(0, 80);
      EXPECT_LT(r.status, 500) << path << " " << body.substr(0, 80) << " -> " << r.body;
      const json e = r.Json();
      EXPECT_TRUE(e.contains("error") && e["error"]["message"].is_string()) << r.body;
      ++n;
    }
    const Reply big = Post(port(), comp, json{{"prompt", long_prompt}}.dump());
    EXPECT_EQ(big.status, 400) << big.body;  // longer than the context: refused, not truncated
    EXPECT_NE(big.body.find("context"), std::string::npos) << big.body;
    const Reply huge = Post(port(), comp, std::string(5u << 20, ' '));
    EXPECT_TRUE(huge.status == 413 || huge.status == 0) << huge.status;  // the server may close at once
    n += 2;
  }
  EXPECT_GE(n, 200);
  EXPECT_EQ(Get(port(), "/health").status, 200);
  EXPECT_EQ(Completion(port(), {{"prompt", "x"}, {"max_tokens", 2}})["usage"]["completion_tokens"], 2);
}

TEST(ServerOptions, ApiKeyAndCors) {
  ServerProcess s({"-m", kNano, "--port", "0", "-t", "1", "--parallel", "1", "--cors-origin", "http://ok.example"},
                  {"OMNICODER_API_KEY=sesame"});
  ASSERT_TRUE(s.ok()) << s.log();
  EXPECT_EQ(Get(s.port(), "/health").status, 200);  // open: for load balancers
  EXPECT_EQ(Get(s.port(), "/v1/models").status, 401);
  EXPECT_EQ(Get(s.port(), "/v1/models", {{"Authorization", "Bearer sesam"}}).status, 401);
  EXPECT_EQ(Get(s.port(), "/v1/models", {{"Authorization", "Bearer sesame"}}).status, 200);
  const Reply ok = Get(s.port(), "/v1/models", {{"Authorization", "Bearer sesame"}, {"Origin", "http://ok.example"}});
  EXPECT_EQ(ok.headers.count("Access-Control-Allow-Origin"), 1u);
  const Reply other =
      Get(s.port(), "/v1/models", {{"Authorization", "Bearer sesame"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(other.headers.count("Access-Control-Allow-Origin"), 0u);
  EXPECT_EQ(s.Stop(), 0);
  ServerProcess plain({"-m", kNano, "--port", "0", "-t", "1", "--parallel", "1"});
  ASSERT_TRUE(plain.ok()) << plain.log();
  EXPECT_EQ(
      Get(plain.port(), "/v1/models", {{"Origin", "http://ok.example"}}).headers.count("Access-Control-Allow-Origin"),
      0u);  // CORS is off unless asked for
}

// A client that sends half a request and stalls is dropped after --timeout.
TEST(ServerOptions, SlowClientsTimeOut) {
  ServerProcess s({"-m", kNano, "--port", "0", "-t", "1", "--parallel", "1", "--timeout", "1"});
  ASSERT_TRUE(s.ok()) << s.log();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(s.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const std::string partial = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pro";
  ASSERT_GT(write(fd, partial.data(), partial.size()), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const auto t0 = std::chrono::steady_clock::now();
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_EQ(n, 0) << "the server should close the connection";
  EXPECT_LT(waited, 4.0);
  EXPECT_EQ(Get(s.port(), "/health").status, 200);
}

TEST(ServerOptions, PortInUseIsAnError) {
  ServerProcess a({"-m", kNano, "--port", "0", "-t", "1", "--parallel", "1"});
  ASSERT_TRUE(a.ok());
  ShellOutput o = RunShell(kBin + " serve -m " + kNano + " --port " + std::to_string(a.port()) + " 2>&1");
  EXPECT_EQ(o.code, 1) << o.out;
  EXPECT_NE(o.out.find("cannot listen"), std::string::npos) << o.out;
  o = RunShell(kBin + " serve -m " + kNano + " --parallel 0 2>&1");
  EXPECT_EQ(o.code, 2) << o.out;
}

// The reference kernels make each token slow enough to leave mid-reply.
class SlowServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"-m", kNano, "--port", "0", "-t", "1", "--isa",
                                                                       "ref", "--parallel", "2", "--max-queue", "2"});
    ASSERT_TRUE(server_->ok()) << server_->log();
  }
  std::unique_ptr<ServerProcess> server_;
};

// Streams `n` long replies at once and hangs up on each after `ms` milliseconds of reading.
void DropStreams(int port, int n, int ms) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([port, ms] {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        close(fd);
        return;
      }
      const std::string body = R"({"prompt": "import os\n", "max_tokens": 400, "stream": true})";
      const std::string req =
          "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      if (write(fd, req.data(), req.size()) < 0) {
        close(fd);
        return;
      }
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      char buf[4096];
      timeval tv{0, 20000};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      while (std::chrono::steady_clock::now() < until) (void)read(fd, buf, sizeof(buf));
      close(fd);
    });
  }
  for (auto& t : threads) t.join();
}

bool WaitIdle(int port, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (Metric(port, "omnicoder_busy_slots") == 0 && Metric(port, "omnicoder_queue_length") == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(SlowServer, FullQueueAnswers503WithRetryAfter) {
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::mutex mu;
  std::string others;
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      const Reply r = Post(server_->port(), "/v1/completions", R"({"prompt": "x", "max_tokens": 20})");
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 503 && r.headers.count("Retry-After")) {
        ++busy;
      } else {
        ++other;
        std::lock_guard<std::mutex> lock(mu);
        others += std::to_string(r.status) + " " + r.body.substr(0, 200) + "\n";
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other, 0) << others;
  EXPECT_GE(ok, 4);  // 2 slots + 2 queued at least
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, 12);
}

TEST_F(SlowServer, ClientsThatLeaveFreeTheirSlots) {
  const long long rss_before = server_->ResidentBytes();
  for (int round = 0; round < 5; ++round) {
    DropStreams(server_->port(), 10, 150);
    EXPECT_TRUE(WaitIdle(server_->port(), 3.0)) << "slots still busy after the clients left";
  }
  EXPECT_GE(Metric(server_->port(), "omnicoder_requests_cancelled_total"), 10);
  const long long rss_after = server_->ResidentBytes();
  EXPECT_LT(rss_after, rss_before + (32ll << 20)) << rss_before << " -> " << rss_after;
  EXPECT_EQ(Post(server_->port(), "/v1/completions", R"({"prompt": "x", "max_tokens": 2})").status, 200);
}

}  // namespace
}  // namespace omnicoder::testing

namespace omnicoder::testing {
namespace {

// A synthetic model carrying a chat template that insists on alternating roles.
TEST(ServerTemplates, TheModelsTemplateIsUsedAndItsRefusalIsA400) {
  const std::string model = std::string(OC_WORK_DIR) + "/tiny-llama-template.gguf";
  const std::string tpl = std::string(OC_SOURCE_DIR) + "/tests/data/chat/templates/inst_alternating.jinja";
  ShellOutput made = RunShell(std::string(OC_BIN_DIR) + "/omnicoder-make-model tiny-llama " + model +
                              " --chat-template " + tpl + " 2>&1");
  ASSERT_EQ(made.code, 0) << made.out;
  ServerProcess s({"-m", model, "--port", "0", "-t", "1", "--parallel", "1"});
  ASSERT_TRUE(s.ok()) << s.log();
  const json ok = {{"messages",
                    {{{"role", "user"}, {"content", "a"}},
                     {{"role", "assistant"}, {"content", "b"}},
                     {{"role", "user"}, {"content", "c"}}}},
                   {"max_tokens", 3}};
  const Reply r = Post(s.port(), "/v1/chat/completions", ok.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  json bad = ok;
  bad["messages"][1]["role"] = "user";
  const Reply refused = Post(s.port(), "/v1/chat/completions", bad.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("must alternate"), std::string::npos) << refused.body;
  // The prompt the server builds is the template's text (the CLI renders the same).
  const std::string ctx = std::string(OC_WORK_DIR) + "/alternating.json";
  {
    FILE* f = std::fopen(ctx.c_str(), "w");
    ASSERT_NE(f, nullptr);
    const std::string body =
        json{{"messages", ok["messages"]}, {"add_generation_prompt", true}, {"bos_token", "<s>"}}.dump();
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  ShellOutput text = RunShell(kBin + " chat-template -m " + model + " --context " + ctx);
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_EQ(text.out, "<s> [INST] a [/INST] b</s> [INST] c [/INST]");
}

}  // namespace
}  // namespace omnicoder::testing
