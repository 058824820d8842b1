// `omnicoder tokenize | logits | inspect | quantize`.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "apps/cli/common.h"

namespace omnicoder::cli {

int TokenizeCommand(const TokenizeOptions& o) {
  std::string text = o.prompt;
  if (!o.prompt_file.empty() && !ReadFileToString(o.prompt_file, &text)) {
    std::fprintf(stderr, "omnicoder: cannot read '%s'\n", o.prompt_file.c_str());
    return 1;
  }
  if (!o.has_prompt && o.prompt_file.empty()) {
    std::fprintf(stderr, "omnicoder: tokenize needs -p TEXT or -f FILE\n");
    return 1;
  }
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, true);
  if (!model) return 1;
  std::vector<int32_t> ids = model->Tokenize(text, true, o.parse_special);
  if (o.no_bos && !ids.empty() && ids[0] == model->bos()) ids.erase(ids.begin());
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  std::printf("%s\n", line.c_str());
  return 0;
}

namespace {

bool ParseTokenList(const std::string& s, std::vector<int32_t>* out) {
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) return false;
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(item.c_str(), &end, 10);
    if (errno || *end != '\0' || v < 0 || v > INT32_MAX) return false;
    out->push_back(static_cast<int32_t>(v));
  }
  return !out->empty();
}

}  // namespace

int LogitsCommand(const LogitsOptions& o) {
  std::vector<int32_t> ids;
  if (!ParseTokenList(o.tokens, &ids)) {
    std::fprintf(stderr, "omnicoder: --tokens must be a comma-separated list of token ids\n");
    return 1;
  }
  SessionOptions so;
  so.ctx_len = std::max<int>(static_cast<int>(ids.size()), 16);
  so.kv_type = o.kv_type;
  so.batch = o.batch;
  Loaded l;
  if (!LoadForEval(o.common, so, &l)) return 1;
  Session& session = *l.session;
  Status s = session.Eval(ids, o.all);
  if (!s.ok()) {
    PrintError("evaluation failed", s);
    return 1;
  }
  FILE* f = std::fopen(o.output.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "omnicoder: cannot create '%s'\n", o.output.c_str());
    return 1;
  }
  const size_t vocab = static_cast<size_t>(session.vocab_size());
  bool ok = true;
  if (o.all) {
    for (size_t i = 0; i < ids.size() && ok; ++i) ok = std::fwrite(session.Logits(static_cast<int>(i)), 4, vocab, f) == vocab;
  } else {
    ok = std::fwrite(session.Logits(), 4, vocab, f) == vocab;
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::fprintf(stderr, "omnicoder: writing '%s' failed\n", o.output.c_str());
    return 1;
  }
  return 0;
}

int InspectCommand(const std::string& path) {
  Result<std::string> d = DescribeModelFile(path);
  if (!d.ok()) {
    PrintError("cannot inspect", d.status());
    return 1;
  }
  std::fwrite(d->data(), 1, d->size(), stdout);
  return 0;
}

int PagerSimCommand(const PagerSimOptions& o) {
  if (o.tokens > 0) {
    Status s = WriteSyntheticTrace(o.trace, o.tokens, o.layers, o.experts, o.k, o.zipf, o.stickiness, o.seed);
    if (!s.ok()) {
      PrintError("synthetic trace", s);
      return 1;
    }
    std::printf("wrote synthetic trace %s: %d tokens, %d layers, %d experts, top-%d, zipf %.2f, stickiness %.2f\n",
                o.trace.c_str(), o.tokens, o.layers, o.experts, o.k, o.zipf, o.stickiness);
  }
  std::vector<std::string> policies = {o.policy};
  if (o.policy == "all") policies = {"lru", "lru2", "lfu", "min"};
  if (std::find(policies.begin(), policies.end(), "min") == policies.end()) policies.push_back("min");
  Result<std::vector<PagerSimResult>> r = SimulatePagerTrace(o.trace, o.slots, policies, o.expert_bytes);
  if (!r.ok()) {
    PrintError("pager-sim", r.status());
    return 1;
  }
  uint64_t min_misses = 0;
  for (const PagerSimResult& x : r.value()) {
    if (x.policy == "min") min_misses = x.misses;
  }
  std::printf("| policy | accesses | misses | hit rate | bytes read | misses / MIN |\n|---|---|---|---|---|---|\n");
  for (const PagerSimResult& x : r.value()) {
    std::printf("| %s | %llu | %llu | %.1f%% | %llu | %.3f |\n", x.policy.c_str(),
                static_cast<unsigned long long>(x.accesses), static_cast<unsigned long long>(x.misses),
                x.accesses ? 100.0 * (1.0 - static_cast<double>(x.misses) / x.accesses) : 0.0,
                static_cast<unsigned long long>(x.bytes),
                min_misses ? static_cast<double>(x.misses) / min_misses : 1.0);
  }
  return 0;
}

int QuantizeCommand(const QuantizeCliOptions& o) {
  QuantizeOptions qo;
  qo.type = o.type;
  qo.n_threads = o.threads;
  qo.pure = o.pure;
  qo.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  Status s = QuantizeModelFile(o.input, o.output, qo);
  if (!s.ok()) {
    PrintError("quantize failed", s);
    return 1;
  }
  std::fprintf(stderr, "wrote %s\n", o.output.c_str());
  return 0;
}

}  // namespace omnicoder::cli
