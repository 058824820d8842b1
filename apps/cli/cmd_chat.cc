// `omnicoder chat`: a terminal conversation. Each turn renders the whole conversation with
// the model's chat template and evaluates only what the KV cache does not hold yet.
// Ctrl-C stops the reply being written (not the program); /clear, /exit; EOF quits.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "apps/cli/commands.h"
#include "apps/cli/common.h"
#include "apps/cli/validate.h"
#include "apps/server/text_stream.h"

namespace omnicoder::cli {

namespace {

std::atomic<bool> g_stop_reply{false};

void OnInterrupt(int) {
  g_stop_reply.store(true);
}

enum class LineResult { kLine, kEof, kInterrupted };

// One line from stdin without stdio buffering (so Ctrl-C interrupts the read).
LineResult ReadLine(std::string* line) {
  line->clear();
  for (;;) {
    char c;
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n == 1) {
      if (c == '\n') return LineResult::kLine;
      *line += c;
      continue;
    }
    if (n == 0) return line->empty() ? LineResult::kEof : LineResult::kLine;
    if (errno == EINTR && g_stop_reply.exchange(false)) return LineResult::kInterrupted;
    if (errno != EINTR) return LineResult::kEof;
  }
}

struct Chat {
  Loaded l;
  ChatCliOptions o;
  nlohmann::json messages = nlohmann::json::array();
  std::vector<int32_t> cached;  // tokens whose KV the session holds
  uint64_t seed = 0;

  // The conversation as the model's prompt (its template, or ChatML without one).
  Result<std::string> Prompt(std::vector<std::string>* stops) const {
    const ModelInfo& info = l.model->info();
    if (info.chat_template.empty()) {
      std::string text;
      for (const auto& m : messages) {
        text += "<|im_start|>" + m["role"].get<std::string>() + "\n" + m["content"].get<std::string>() + "<|im_end|>\n";
      }
      *stops = {"<|im_end|>", "<|im_start|>"};
      return text + "<|im_start|>assistant\n";
    }
    ChatTemplateInput in;
    in.messages_json = messages.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    in.bos_token = info.bos_token;
    in.eos_token = info.eos_token;
    return RenderChatTemplate(info.chat_template, in);
  }

  // Evaluates what of `tokens` the cache lacks (keeping the shared prefix).
  Status Sync(const std::vector<int32_t>& tokens) {
    size_t keep = 0;
    while (keep < cached.size() && keep < tokens.size() && cached[keep] == tokens[keep]) ++keep;
    if (keep == tokens.size()) --keep;  // the last token is evaluated again for its logits
    if (keep < cached.size()) {
      OC_RETURN_IF_ERROR(l.session->SeqTruncate(0, static_cast<int>(keep)));
      cached.resize(keep);
    }
    std::vector<int32_t> rest(tokens.begin() + static_cast<long>(keep), tokens.end());
    OC_RETURN_IF_ERROR(l.session->Eval(rest));
    cached = tokens;
    return Status::Ok();
  }

  // Streams one reply to stdout; returns its text.
  Result<std::string> Reply(const std::vector<std::string>& stops) {
    SamplerOptions sp = o.sampling;
    sp.seed = seed++;
    Sampler sampler(sp, l.session->vocab_size());
    server::TextStream stream(stops);
    std::string text;
    g_stop_reply.store(false);
    for (int i = 0; i < o.n_predict; ++i) {
      const int32_t tok = sampler.Sample(l.session->Logits());
      sampler.Accept(tok);
      if (l.model->IsEndOfGeneration(tok)) break;
      bool stopped = false;
      const std::string piece = stream.Push(l.model->TokenToPiece(tok), &stopped);
      text += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      if (stopped || g_stop_reply.load()) break;
      if (l.session->position() + 1 >= l.session->capacity()) {
        std::fprintf(stderr, "\n[the context is full: /clear to start over]");
        break;
      }
      OC_RETURN_IF_ERROR(l.session->Eval({tok}));
      cached.push_back(tok);
    }
    if (g_stop_reply.exchange(false)) {
      std::fprintf(stderr, "\n[stopped]");
    } else {
      const std::string rest = stream.Flush();
      text += rest;
      std::fwrite(rest.data(), 1, rest.size(), stdout);
    }
    std::fputs("\n", stdout);
    return text;
  }

  // One user turn: false to quit the program.
  bool Turn(const std::string& line) {
    messages.push_back({{"role", "user"}, {"content", line}});
    std::vector<std::string> stops;
    Result<std::string> prompt = Prompt(&stops);
    if (!prompt.ok()) {
      std::fprintf(stderr, "omnicoder: %s\n", prompt.status().message().c_str());
      messages.erase(messages.end() - 1);
      return true;
    }
    const std::string& bos = l.model->info().bos_token;
    const bool has_bos = !bos.empty() && prompt.value().compare(0, bos.size(), bos) == 0;
    const std::vector<int32_t> tokens = l.model->Tokenize(prompt.value(), !has_bos, true);
    if (tokens.empty() || static_cast<int>(tokens.size()) + 1 >= l.session->capacity()) {
      std::fprintf(stderr, "omnicoder: the conversation (%zu tokens) no longer fits the context (%d): /clear\n",
                   tokens.size(), l.session->capacity());
      messages.erase(messages.end() - 1);
      return true;
    }
    Status st = Sync(tokens);
    Result<std::string> reply = st.ok() ? Reply(stops) : Result<std::string>(st);
    if (!reply.ok()) {
      PrintError("chat", reply.status());
      return false;
    }
    messages.push_back({{"role", "assistant"}, {"content", reply.value()}});
    return true;
  }
};

}  // namespace

int ChatCommand(const ChatCliOptions& o) {
  if (o.n_predict < 1) return std::fprintf(stderr, "omnicoder: -n must be >= 1\n"), 2;
  int64_t seed_mode = 0;
  uint64_t seed = 0;
  if (!ParseSeed(o.seed, &seed_mode, &seed)) return 2;
  Status v = ValidateSamplerOptions(o.sampling);
  if (!v.ok()) return std::fprintf(stderr, "omnicoder: %s\n", v.message().c_str()), 2;
  Chat chat;
  chat.o = o;
  chat.seed = seed_mode < 0 ? std::random_device{}() : seed;
  SessionOptions so;
  so.ctx_len = o.ctx_len;
  so.kv_type = o.kv_type;
  if (!LoadForEval(o.common, so, &chat.l)) return 1;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read at the prompt returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  const ModelInfo& info = chat.l.model->info();
  std::fprintf(stderr,
               "omnicoder chat: %s, %s template, %d tokens of context. /clear starts over, /exit quits,\n"
               "Ctrl-C stops a reply.\n",
               info.name.c_str(), info.chat_template.empty() ? "ChatML" : "its own", chat.l.session->capacity());
  if (!o.system.empty()) chat.messages.push_back({{"role", "system"}, {"content", o.system}});
  for (;;) {
    std::fputs("> ", stdout);
    std::fflush(stdout);
    std::string line;
    const LineResult r = ReadLine(&line);
    if (r == LineResult::kEof) break;
    if (r == LineResult::kInterrupted) {
      std::fputs("\n", stdout);
      continue;
    }
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      chat.messages = nlohmann::json::array();
      if (!o.system.empty()) chat.messages.push_back({{"role", "system"}, {"content", o.system}});
      std::fputs("(a new conversation)\n", stdout);
      continue;
    }
    if (line.empty()) continue;
    if (!chat.Turn(line)) return 1;
  }
  return 0;
}

}  // namespace omnicoder::cli
