// `omnicoder tokenize | logits | inspect | quantize`.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "apps/cli/common.h"
#include "apps/cli/validate.h"
#include "omnicoder/files.h"

namespace omnicoder::cli {

int TokenizeCommand(const TokenizeOptions& o) {
  if (o.has_prompt == !o.prompt_file.empty()) {
    std::fprintf(stderr, "omnicoder: tokenize needs exactly one of -p TEXT or -f FILE\n");
    return 1;
  }
  std::string text = o.prompt;
  if (!o.prompt_file.empty() && !ReadTextInput(o.prompt_file, "the text file", &text)) return 1;
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, true);
  if (!model) return 1;
  std::vector<int32_t> ids = model->Tokenize(text, true, o.parse_special);
  if (o.no_bos && !ids.empty() && ids[0] == model->bos()) ids.erase(ids.begin());
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  std::printf("%s\n", line.c_str());
  return FinishStdout(0);
}

namespace {

bool LogitsInput(const LogitsOptions& o, std::vector<int32_t>* ids) {
  if (o.tokens.empty() == o.tokens_file.empty()) {
    std::fprintf(stderr, "omnicoder: logits needs exactly one of --tokens IDS or --tokens-file FILE\n");
    return false;
  }
  std::string text = o.tokens, error;
  if (!o.tokens_file.empty() && !ReadTextInput(o.tokens_file, "the token file", &text)) return false;
  if (!ParseTokenIds(text, ids, &error)) {
    std::fprintf(stderr, "omnicoder: %s: %s\n", o.tokens_file.empty() ? "--tokens" : o.tokens_file.c_str(),
                 error.c_str());
    return false;
  }
  return true;
}

// Evaluates ids in chunks, writing each chunk's logits (or the last row) as it goes, with
// a progress line on stderr for long inputs.
Status EvalAndWrite(const LogitsOptions& o, Session& session, const std::vector<int32_t>& ids, OutputFile* out) {
  const size_t vocab = static_cast<size_t>(session.vocab_size());
  const size_t chunk = 512;
  const bool show = ids.size() > 2048;
  for (size_t done = 0; done < ids.size();) {
    const size_t n = std::min(chunk, ids.size() - done);
    std::vector<int32_t> part(ids.begin() + done, ids.begin() + done + n);
    OC_RETURN_IF_ERROR(session.Eval(part, o.all));
    done += n;
    if (o.all) {
      for (size_t i = 0; i < n; ++i) OC_RETURN_IF_ERROR(out->Write(session.Logits(static_cast<int>(i)), 4 * vocab));
    } else if (done == ids.size()) {
      OC_RETURN_IF_ERROR(out->Write(session.Logits(), 4 * vocab));
    }
    if (show) std::fprintf(stderr, "\revaluated %zu / %zu tokens", done, ids.size());
    if (Interrupted()) return InvalidArgument("interrupted");
  }
  if (show) std::fprintf(stderr, "\n");
  return Status::Ok();
}

}  // namespace

int LogitsCommand(const LogitsOptions& o) {
  std::vector<int32_t> ids;
  if (!LogitsInput(o, &ids)) return 1;
  Status out_ok = CheckOutputFile(o.output);  // before any work
  if (!out_ok.ok()) {
    PrintError("-o", out_ok);
    return 1;
  }
  SessionOptions so;
  so.ctx_len = std::max<int>(static_cast<int>(ids.size()), 16);
  so.kv_type = o.kv_type;
  so.batch = o.batch;
  so.allow_beyond_trained_ctx = o.allow_long_ctx;
  Loaded l;
  if (!LoadForEval(o.common, so, &l)) return 1;
  Result<std::unique_ptr<OutputFile>> out = OutputFile::Create(o.output);  // the model is an input now
  if (!out.ok()) {
    PrintError("-o", out.status());
    return 1;
  }
  Status s = EvalAndWrite(o, *l.session, ids, out->get());
  if (s.ok()) s = out.value()->Commit();
  if (s.ok()) s = l.model->Close();
  if (!s.ok()) {
    PrintError("logits", s);
    return Interrupted() ? 130 : 1;
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
  return FinishStdout(0);
}

namespace {

bool PagerSimChecks(const PagerSimOptions& o, uint64_t* expert_bytes) {
  if (!ParseUint(o.expert_bytes, 0, 1ull << 50, expert_bytes)) {
    std::fprintf(stderr, "omnicoder: --expert-bytes must be an integer in [0, 2^50], got '%s'\n",
                 o.expert_bytes.c_str());
    return false;
  }
  if (o.synthetic && o.tokens < 1) {
    std::fprintf(stderr, "omnicoder: --synthetic must be >= 1 (tokens to generate), got %d\n", o.tokens);
    return false;
  }
  return true;
}

}  // namespace

int PagerSimCommand(const PagerSimOptions& o) {
  uint64_t expert_bytes = 0;
  if (!PagerSimChecks(o, &expert_bytes)) return 1;
  std::vector<PagerPolicy> policies = {PagerPolicy::kLru, PagerPolicy::kLru2, PagerPolicy::kLfu, PagerPolicy::kMin};
  if (o.policy != "all") {
    Result<PagerPolicy> one = ParsePagerPolicy(o.policy);
    if (!one.ok()) {
      PrintError("--policy", one.status());
      return 1;
    }
    policies = {one.value()};
    if (one.value() != PagerPolicy::kMin) policies.push_back(PagerPolicy::kMin);  // the yardstick
  }
  if (o.synthetic) {
    SyntheticTraceOptions so;
    so.n_tokens = o.tokens, so.n_layers = o.layers, so.n_experts = o.experts, so.k = o.k;
    so.zipf_s = o.zipf, so.stickiness = o.stickiness, so.seed = o.seed;
    Status s = WriteSyntheticTrace(o.trace, so);
    if (!s.ok()) {
      PrintError("synthetic trace", s);
      return 1;
    }
    std::printf("wrote synthetic trace %s: %d tokens, %d layers, %d experts, top-%d, zipf %.2f, stickiness %.2f\n",
                o.trace.c_str(), o.tokens, o.layers, o.experts, o.k, o.zipf, o.stickiness);
  }
  Result<std::vector<PagerSimResult>> r = SimulatePagerTrace(o.trace, o.slots, policies, expert_bytes);
  if (!r.ok()) {
    PrintError("pager-sim", r.status());
    return 1;
  }
  uint64_t min_misses = 0;
  for (const PagerSimResult& x : r.value()) {
    if (x.policy == PagerPolicy::kMin) min_misses = x.misses;
  }
  std::printf("| policy | accesses | misses | hit rate | bytes read | misses / MIN |\n|---|---|---|---|---|---|\n");
  for (const PagerSimResult& x : r.value()) {
    std::printf("| %s | %llu | %llu | %.1f%% | %llu | %.3f |\n", PagerPolicyName(x.policy),
                static_cast<unsigned long long>(x.accesses), static_cast<unsigned long long>(x.misses),
                x.accesses ? 100.0 * (1.0 - static_cast<double>(x.misses) / x.accesses) : 0.0,
                static_cast<unsigned long long>(x.bytes),
                min_misses ? static_cast<double>(x.misses) / min_misses : 1.0);
  }
  return FinishStdout(0);
}

int QuantizeCommand(const QuantizeCliOptions& o) {
  QuantizeOptions qo;
  qo.type = o.type;
  qo.n_threads = o.threads;
  if (!CheckThreads(&qo.n_threads, "-t")) return 1;
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
