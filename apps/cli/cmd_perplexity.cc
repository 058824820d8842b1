// `omnicoder perplexity`: llama-perplexity's method and output, plus bits per byte.
#include <cstdio>

#include "apps/cli/common.h"
#include "apps/cli/validate.h"

namespace omnicoder::cli {

int PerplexityCommand(const PerplexityCliOptions& o) {
  std::string text;
  if (o.file.empty()) {
    std::fprintf(stderr, "omnicoder: perplexity needs -f FILE\n");
    return 1;
  }
  if (!ReadTextInput(o.file, "the text file", &text)) return 1;
  std::unique_ptr<Engine> engine = MakeEngine(o.common);
  if (!engine) return 1;
  SessionOptions planned;
  planned.ctx_len = o.n_ctx;
  planned.batch = std::min(o.n_batch, o.n_ctx);
  std::unique_ptr<Model> model = LoadModelOrPrint(*engine, o.common, false, &planned);
  if (!model) return 1;
  PerplexityOptions po;
  po.n_ctx = o.n_ctx;
  po.n_batch = o.n_batch;
  po.n_chunks = o.n_chunks;
  po.kv_type = o.kv_type;
  po.allow_beyond_trained_ctx = o.allow_long_ctx;
  po.progress = [](int chunk, int, double ppl) {
    std::printf("[%d]%.4f,", chunk, ppl);
    std::fflush(stdout);
  };
  Result<PerplexityResult> r = ComputePerplexity(*engine, *model, text, po);
  std::printf("\n");
  if (!r.ok()) {
    PrintError("perplexity", r.status());
    return 1;
  }
  std::printf("Final estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_error);
  std::printf("bits per byte: %.4f (%lld tokens scored, %llu bytes; %d chunks of %d tokens)\n", r->bits_per_byte,
              static_cast<long long>(r->count), static_cast<unsigned long long>(r->scored_bytes), r->n_chunks, o.n_ctx);
  return FinishStdout(0);
}

}  // namespace omnicoder::cli
