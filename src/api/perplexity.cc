// Perplexity as llama-perplexity computes it: the text is tokenized (with BOS when the
// model adds one), cut into chunks of n_ctx tokens, each evaluated from an empty context
// with its first token replaced by BOS, and only the second half of each chunk is scored
// (every token there has at least n_ctx/2 tokens of context).
#include "omnicoder/omnicoder.h"

#include <cmath>

#include "api/api_impl.h"
#include "base/strings.h"

namespace omnicoder {

namespace {

// -log softmax(logits)[target], with the maximum subtracted first (float exps, double sum).
double Nll(const float* logits, int n_vocab, int target) {
  float mx = logits[0];
  for (int i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  return -(logits[target] - mx - std::log(sum));
}

}  // namespace

Result<PerplexityResult> ComputePerplexity(Engine& engine, Model& model, std::string_view text,
                                           const PerplexityOptions& o) {
  if (o.n_ctx < 4 || o.n_ctx > (1 << 20)) return InvalidArgument("perplexity context must be in [4, 1048576]");
  if (o.n_batch < 1) return InvalidArgument("batch size must be >= 1");
  std::vector<int32_t> tokens = model.Tokenize(text, /*add_special=*/true);
  if (static_cast<int>(tokens.size()) < 2 * o.n_ctx) {
    return InvalidArgument(StrFormat("the text tokenizes to %zu tokens; a context of %d needs at least %d",
                                     tokens.size(), o.n_ctx, 2 * o.n_ctx));
  }
  int n_chunk = static_cast<int>(tokens.size()) / o.n_ctx;
  if (o.n_chunks > 0) n_chunk = std::min(n_chunk, o.n_chunks);
  SessionOptions so;
  so.ctx_len = o.n_ctx;
  so.batch = std::min(o.n_batch, o.n_ctx);
  so.kv_type = o.kv_type;
  so.allow_beyond_trained_ctx = o.allow_beyond_trained_ctx;
  OC_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(engine, model, so));
  const bool add_bos = model.bos() >= 0 && !tokens.empty() && tokens[0] == model.bos();
  const int first = o.n_ctx / 2, vocab = session->vocab_size();
  PerplexityResult r;
  double nll = 0.0, nll2 = 0.0;
  for (int i = 0; i < n_chunk; ++i) {
    std::vector<int32_t> chunk(tokens.begin() + static_cast<size_t>(i) * o.n_ctx,
                               tokens.begin() + static_cast<size_t>(i + 1) * o.n_ctx);
    if (add_bos) chunk[0] = model.bos();
    session->Reset();
    OC_RETURN_IF_ERROR(session->Eval(chunk, /*all_logits=*/true));
    for (int j = first; j < o.n_ctx - 1; ++j) {
      const int32_t next = tokens[static_cast<size_t>(i) * o.n_ctx + j + 1];
      const double v = Nll(session->Logits(j), vocab, next);
      nll += v, nll2 += v * v;
      r.scored_bytes += model.TokenToPiece(next).size();
      ++r.count;
    }
    r.running.push_back(std::exp(nll / r.count));
    if (o.progress) o.progress(i + 1, n_chunk, r.running.back());
  }
  r.nll = nll / r.count;
  r.ppl = std::exp(r.nll);
  const double var = nll2 / r.count - r.nll * r.nll;
  r.ppl_error = var > 0 ? std::sqrt(var / (r.count - 1)) * r.ppl : 0.0;
  r.bits_per_byte = r.scored_bytes ? nll / std::log(2.0) / static_cast<double>(r.scored_bytes) : 0.0;
  r.n_tokens = static_cast<int>(tokens.size());
  r.n_chunks = n_chunk;
  return r;
}

}  // namespace omnicoder
