// omnicoder CLI entry point: argument parsing (the only file that includes CLI11).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "apps/cli/commands.h"
#include "apps/cli/validate.h"
#include "omnicoder/omnicoder.h"

using namespace omnicoder;
using namespace omnicoder::cli;

namespace {

// An option whose text is parsed into an enum by the library's own parser: a bad value
// is a usage error carrying the parser's message (which lists the valid names).
template <typename E>
CLI::Option* AddEnum(CLI::App* app, const std::string& name, E* value, Result<E> (*parse)(std::string_view),
                     const std::string& help) {
  return app->add_option_function<std::string>(
      name,
      [value, parse, name](const std::string& text) {
        Result<E> r = parse(text);
        if (!r.ok()) throw CLI::ValidationError(name, r.status().message());
        *value = r.value();
      },
      help);
}

// Pager policies a live model can use (MIN needs the future: pager-sim only).
Result<PagerPolicy> ParseLivePagerPolicy(std::string_view text) {
  Result<PagerPolicy> p = ParsePagerPolicy(text);
  if (!p.ok() || p.value() == PagerPolicy::kMin) {
    return InvalidArgument("unknown pager policy '" + std::string(text) + "' (one of: lfu, lru2, lru)");
  }
  return p;
}

void AddCommon(CLI::App* app, CommonOptions* c, bool need_model = true) {
  auto* m = app->add_option("-m,--model", c->model, "GGUF model file");
  if (need_model) m->required();
  app->add_option("-t,--threads", c->threads, "threads (default: all available cores)");
  AddEnum(app, "--isa", &c->isa, ParseIsa, "kernels: auto, ref, avx2, avx512, amx, neon");
  app->add_flag("-v,--verbose", c->verbose, "log engine details to stderr");
  app->add_flag("--check-tensors", c->check_tensors, "scan all weights for NaN/Inf at load");
  app->add_flag("--mmap", c->use_mmap, "compute from the file mapping instead of copying weights to memory");
  app->add_option("--mem-budget", c->mem_budget,
                  "memory budget for the process: 1G, 1.5G, 800M, auto (MoE experts are paged)");
  app->add_option("--expert-slots", c->expert_slots, "page MoE experts through exactly N slots");
  AddEnum(app, "--pager-policy", &c->pager_policy, ParseLivePagerPolicy, "expert eviction: lfu (default), lru2, lru");
  app->add_flag("--no-prefetch", c->no_prefetch, "do not read the next layer's predicted experts ahead");
  app->add_flag("--pager-stats", c->pager_stats, "print expert pager counters at the end");
  app->add_option("--routing-trace", c->routing_trace, "record (token, layer, experts) to FILE");
}

CLI::App* AddRun(CLI::App& app, RunOptions* run) {
  CLI::App* r = app.add_subcommand("run", "generate a continuation (stdout) of a prompt");
  AddCommon(r, &run->common);
  r->add_option("-p,--prompt", run->prompt, "prompt text");
  r->add_option("-f,--file", run->prompt_file, "read the prompt from a file");
  r->add_option("-n,--n-predict", run->n_predict, "tokens to generate (default 128)");
  r->add_option("-c,--ctx-size", run->ctx_len,
                "context size (default: the model's, as far as memory allows; 4096 at most under --mem-budget)");
  r->add_option("-b,--batch-size", run->batch, "prompt tokens per step (default 64)");
  AddEnum(r, "--kv-type", &run->kv_type, ParseKvType, "KV cache type: f16 (default), f32");
  r->add_option("-s,--seed", run->seed, "sampling seed, 0 to 2^64-1 (default -1: random)");
  r->add_flag("--allow-ctx-beyond-train", run->allow_long_ctx, "allow -c above the model's trained context");
  SamplerOptions& sp = run->sampling;
  r->add_option("--temp", sp.temperature, "temperature (0 = greedy; default 0.8)");
  r->add_option("--top-k", sp.top_k, "top-k (default 40, 0 = off)");
  r->add_option("--top-p", sp.top_p, "top-p (default 0.95, 1 = off)");
  r->add_option("--min-p", sp.min_p, "min-p (default 0.05, 0 = off)");
  r->add_option("--repeat-penalty", sp.repeat_penalty, "repetition penalty (default 1.0 = off)");
  r->add_option("--repeat-last-n", sp.repeat_last_n, "window of the repetition penalty (default 64)");
  r->add_flag("--ignore-eos", run->ignore_eos, "keep generating after end-of-generation tokens");
  r->add_flag("--no-bos", run->no_bos, "do not add the BOS token");
  return r;
}

CLI::App* AddTokenize(CLI::App& app, TokenizeOptions* tok) {
  CLI::App* t = app.add_subcommand("tokenize", "print token ids of a text");
  AddCommon(t, &tok->common);
  t->add_option("-p,--prompt", tok->prompt, "text")->each([tok](const std::string&) { tok->has_prompt = true; });
  t->add_option("-f,--file", tok->prompt_file, "read the text from a file");
  t->add_flag("--no-bos", tok->no_bos, "drop the BOS token the model would add");
  t->add_flag("--parse-special", tok->parse_special, "turn control-token text into control tokens");
  return t;
}

CLI::App* AddLogits(CLI::App& app, LogitsOptions* lg) {
  CLI::App* l = app.add_subcommand("logits", "write the last position's logits (float32) for token ids");
  AddCommon(l, &lg->common);
  l->add_option("--tokens", lg->tokens, "comma-separated token ids (no BOS added)");
  l->add_option("--tokens-file", lg->tokens_file, "file of token ids (comma- or whitespace-separated)");
  l->add_flag("--allow-ctx-beyond-train", lg->allow_long_ctx, "allow more ids than the model's trained context");
  l->add_option("-o,--output", lg->output, "output file")->required();
  AddEnum(l, "--kv-type", &lg->kv_type, ParseKvType, "KV cache type: f16 (default), f32");
  l->add_option("-b,--batch-size", lg->batch, "tokens per forward step (default 64)");
  l->add_flag("--all", lg->all, "write every position's logits");
  return l;
}

CLI::App* AddBench(CLI::App& app, BenchOptions* bn) {
  CLI::App* b = app.add_subcommand("bench", "prompt-processing and generation speed (like llama-bench)");
  AddCommon(b, &bn->common);
  b->add_option("-p,--n-prompt", bn->n_prompt, "prompt tokens (default 128)");
  b->add_option("-n,--n-gen", bn->n_gen, "generated tokens (default 32)");
  b->add_option("-r,--repetitions", bn->reps, "repetitions (default 3)");
  b->add_flag("--json", bn->json, "print JSON with pp_tps and tg_tps (medians)");
  b->add_option("--parallel", bn->parallel, "also decode N sequences together; reports aggregate tok/s");
  b->add_option("-d,--depth", bn->depth, "tokens already in the context before pp and tg (llama-bench's -d)");
  return b;
}

CLI::App* AddPagerSim(CLI::App& app, PagerSimOptions* ps) {
  CLI::App* p = app.add_subcommand("pager-sim", "replay a routing trace against eviction policies and Belady's MIN");
  p->add_option("--trace", ps->trace, "routing trace (from --routing-trace, or written here with --synthetic)")
      ->required();
  p->add_option("--slots", ps->slots, "expert slots")->required();
  p->add_option("--policy", ps->policy, "lru, lru2, lfu, min or all (default)");
  p->add_option("--expert-bytes", ps->expert_bytes, "bytes per expert, to report bytes read");
  p->add_option("--synthetic", ps->tokens, "first write a synthetic trace of this many tokens")
      ->each([ps](const std::string&) { ps->synthetic = true; });
  p->add_option("--layers", ps->layers, "synthetic: layers (16)");
  p->add_option("--experts", ps->experts, "synthetic: experts per layer (8)");
  p->add_option("--k", ps->k, "synthetic: experts per token (2)");
  p->add_option("--zipf", ps->zipf, "synthetic: Zipf exponent of expert popularity (1.0)");
  p->add_option("--stickiness", ps->stickiness, "synthetic: chance a token reuses the previous token's expert (0.3)");
  p->add_option("--seed", ps->seed, "synthetic: seed");
  return p;
}

CLI::App* AddQuantize(CLI::App& app, QuantizeCliOptions* qo) {
  CLI::App* q = app.add_subcommand("quantize", "rewrite a GGUF with quantized weights");
  q->add_option("input", qo->input, "input GGUF")->required();
  q->add_option("output", qo->output, "output GGUF")->required();
  q->add_option("type", qo->type,
                "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, F16, BF16, MXFP4; llama.cpp's mixes Q4_K_S, Q4_K_M, "
                "Q5_K_S, Q5_K_M")
      ->required();
  q->add_option("-t,--threads", qo->threads, "threads");
  q->add_flag("--pure", qo->pure, "every matrix in the type (no Q6_K output.weight, no mix)");
  return q;
}

CLI::App* AddPerplexity(CLI::App& app, PerplexityCliOptions* pp) {
  CLI::App* p =
      app.add_subcommand("perplexity", "perplexity of a text file (llama-perplexity's method) and bits per byte");
  AddCommon(p, &pp->common);
  p->add_option("-f,--file", pp->file, "text file")->required();
  p->add_option("-c,--ctx-size", pp->n_ctx, "tokens per chunk (default 512); the second half is scored");
  p->add_option("-b,--batch-size", pp->n_batch, "tokens per forward step (default 2048)");
  p->add_option("--chunks", pp->n_chunks, "score at most N chunks");
  AddEnum(p, "--kv-type", &pp->kv_type, ParseKvType, "KV cache type: f16 (default), f32");
  p->add_flag("--allow-ctx-beyond-train", pp->allow_long_ctx, "allow -c above the model's trained context");
  return p;
}

CLI::App* AddChatTemplate(CLI::App& app, ChatTemplateCliOptions* co) {
  CLI::App* c = app.add_subcommand("chat-template", "render a chat template (Jinja) for a conversation");
  auto* t = c->add_option("--template", co->template_file, "Jinja template file");
  auto* m = c->add_option("-m,--model", co->model, "GGUF whose tokenizer.chat_template is rendered");
  t->excludes(m);
  c->add_option("--context", co->context_file,
                "JSON file: [messages] or {messages, tools, add_generation_prompt, bos_token, eos_token, ...}")
      ->required();
  c->add_option("--now", co->now, "unix time strftime_now sees (default: the clock)");
  return c;
}

CLI::App* AddChat(CLI::App& app, ChatCliOptions* co) {
  CLI::App* c = app.add_subcommand("chat", "interactive chat in the terminal (the model's chat template)");
  AddCommon(c, &co->common);
  c->add_option("-c,--ctx-size", co->ctx_len,
                "context (default: the model's, as far as memory allows; 4096 at most under --mem-budget)");
  c->add_option("-n,--n-predict", co->n_predict, "most tokens per reply (default 512)");
  c->add_option("--system", co->system, "system message");
  c->add_option("-s,--seed", co->seed, "sampling seed, 0 to 2^64-1 (default -1: random)");
  AddEnum(c, "--kv-type", &co->kv_type, ParseKvType, "KV cache type: f16 (default), f32");
  SamplerOptions& sp = co->sampling;
  c->add_option("--temp", sp.temperature, "temperature (0 = greedy; default 0.8)");
  c->add_option("--top-k", sp.top_k, "top-k (default 40, 0 = off)");
  c->add_option("--top-p", sp.top_p, "top-p (default 0.95, 1 = off)");
  c->add_option("--min-p", sp.min_p, "min-p (default 0.05, 0 = off)");
  c->add_option("--repeat-penalty", sp.repeat_penalty, "repetition penalty (default 1.0 = off)");
  return c;
}

CLI::App* AddServe(CLI::App& app, ServeOptions* so) {
  CLI::App* s = app.add_subcommand("serve", "OpenAI-compatible HTTP server (chat, completions, streaming)");
  AddCommon(s, &so->common);
  s->add_option("--host", so->host, "address to listen on (default 127.0.0.1: this machine only)");
  s->add_option("--port", so->port, "port (default 8080; 0 = any free port, printed)");
  s->add_option("--parallel", so->parallel, "requests decoded together (slots, default 4)");
  s->add_option("-c,--ctx-size", so->ctx_len,
                "context per slot (default: the model's, as far as memory allows; 4096 at most under --mem-budget)");
  s->add_option("-b,--batch-size", so->batch, "tokens per forward step (default 256)");
  AddEnum(s, "--kv-type", &so->kv_type, ParseKvType, "KV cache type: f16 (default), f32");
  s->add_option("--max-queue", so->max_queue, "requests waiting for a slot before 503 (default 64)");
  s->add_option("--api-key", so->api_key, "require Authorization: Bearer KEY (default: $OMNICODER_API_KEY)");
  s->add_option("--cors-origin", so->cors_origins, "allow browser requests from this origin (repeatable; * = any)");
  s->add_option("--alias", so->alias, "model name the API reports (default: the file name)");
  s->add_option("--timeout", so->timeout, "seconds to read a request or write a response (default 30)");
  s->add_option("--body-limit", so->body_limit, "largest request body in bytes (default 4 MiB)");
  return s;
}

struct TrainCli {
  CorpusCliOptions corpus;
  TokenizerTrainOptions tokenizer;
  TokenizeCorpusOptions shards;
  TrainOptions train;
  ExportCliOptions export_;
  EvaluateCliOptions eval;
  CLI::App *c, *tt, *tc, *tr, *ex, *ev;
};

void AddTrain(CLI::App& app, TrainCli* t) {
  t->c = app.add_subcommand("corpus", "gather the training corpus (local files) into a manifest");
  t->c->add_option("--sources", t->corpus.sources, "source list (default train/corpus-sources.txt)");
  t->c->add_option("-o,--output", t->corpus.output, "manifest to write (default data/corpus.tsv)");
  t->tt = app.add_subcommand("train-tokenizer", "train a byte-level BPE vocabulary on a corpus manifest");
  t->tt->add_option("--corpus", t->tokenizer.manifest, "corpus manifest")->required();
  t->tt->add_option("-o,--output", t->tokenizer.output, "vocabulary GGUF to write")->required();
  t->tt->add_option("--vocab-size", t->tokenizer.vocab_size, "tokens incl. 256 bytes and 5 special (default 8192)");
  t->tt->add_option("--pre", t->tokenizer.pre, "pre-tokenizer (tokenizer.ggml.pre), default qwen2");
  t->tc = app.add_subcommand("tokenize-corpus", "tokenize a corpus manifest into training shards");
  t->tc->add_option("--corpus", t->shards.manifest, "corpus manifest")->required();
  t->tc->add_option("--tokenizer", t->shards.tokenizer, "vocabulary GGUF")->required();
  t->tc->add_option("-o,--output", t->shards.out_dir, "shard folder")->required();
  t->tc->add_option("--fim-rate", t->shards.fim_rate, "fraction of code files in fill-in-the-middle order (0.1)");
  t->tc->add_option("-t,--threads", t->shards.n_threads, "threads");
  t->tr = app.add_subcommand("train", "train (or resume) a model from a config file");
  t->tr->add_option("--config", t->train.config, "training config (e.g. train/nano.cfg)")->required();
  t->tr->add_option("--time-budget", t->train.time_budget_seconds, "seconds of training in this sitting (resumable)");
  t->tr->add_option("--max-steps", t->train.max_steps, "stop at this step");
  t->tr->add_option("-t,--threads", t->train.n_threads, "threads");
  AddEnum(t->tr, "--isa", &t->train.isa, ParseIsa, "kernels: auto, ref, avx2, avx512, amx, neon");
  AddEnum(t->tr, "--matmul", &t->train.matmul, ParseMatmulPrecision,
          "bf16 (AMX tiles where available, default) or f32");
  t->ev = app.add_subcommand("evaluate", "a training run's checkpoint on its whole validation sets, and its routing");
  t->ev->add_option("--config", t->eval.eval.config, "training config")->required();
  t->ev->add_option("-t,--threads", t->eval.eval.n_threads, "threads");
  AddEnum(t->ev, "--isa", &t->eval.eval.isa, ParseIsa, "kernels: auto, ref, avx2, avx512, amx, neon");
  t->ev->add_flag("--json", t->eval.json, "print JSON");
  t->ex = app.add_subcommand("export", "write a training run's checkpoint as a GGUF model");
  t->ex->add_option("--config", t->export_.config, "training config")->required();
  t->ex->add_option("-o,--output", t->export_.output, "GGUF to write")->required();
  t->ex->add_option("--type", t->export_.type, "F32 (default), F16 or BF16");
}

}  // namespace

// A first argument that is neither an option nor a subcommand gets a message that says so.
bool KnownCommand(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return true;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == argv[1]) return true;
  }
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
  std::fprintf(stderr, "omnicoder: unknown command '%s'\ncommands: %s (omnicoder COMMAND --help)\n", argv[1],
               names.c_str());
  return false;
}

int main(int argc, char** argv) {
  CLI::App app{"OmniCoder: MoE-first LLM inference engine (GGUF)", "omnicoder"};
  app.set_version_flag("--version", omnicoder::Version());
  app.require_subcommand(1);
  RunOptions run;
  TokenizeOptions tok;
  LogitsOptions lg;
  BenchOptions bn;
  QuantizeCliOptions qo;
  PagerSimOptions ps;
  std::string inspect_path;
  CLI::App* r = AddRun(app, &run);
  CLI::App* t = AddTokenize(app, &tok);
  CLI::App* l = AddLogits(app, &lg);
  CLI::App* b = AddBench(app, &bn);
  CLI::App* i = app.add_subcommand("inspect", "print a GGUF file's metadata, tensors and memory estimate");
  i->add_option("file", inspect_path, "GGUF file")->required();
  CLI::App* q = AddQuantize(app, &qo);
  CLI::App* p = AddPagerSim(app, &ps);
  PerplexityCliOptions pp;
  CLI::App* pc = AddPerplexity(app, &pp);
  TrainCli tc;
  AddTrain(app, &tc);
  ServeOptions so;
  CLI::App* sv = AddServe(app, &so);
  ChatCliOptions cho;
  CLI::App* ch = AddChat(app, &cho);
  ChatTemplateCliOptions cto;
  CLI::App* ct = AddChatTemplate(app, &cto);
  if (!KnownCommand(app, argc, argv)) return 2;
  CLI11_PARSE(app, argc, argv);
  if (sv->parsed()) return ServeCommand(so);
  if (ct->parsed()) return FinishStdout(ChatTemplateCommand(cto));
  if (ch->parsed()) return FinishStdout(ChatCommand(cho));  // handles SIGINT itself  // handles its own signals
  InstallSignalHandlers(/*graceful=*/r->parsed() || tc.tr->parsed());
  if (pc->parsed()) return PerplexityCommand(pp);
  if (tc.c->parsed()) return CorpusCommand(tc.corpus);
  if (tc.tt->parsed()) return TrainTokenizerCommand(tc.tokenizer);
  if (tc.tc->parsed()) return TokenizeCorpusCommand(tc.shards);
  if (tc.tr->parsed()) return TrainCommand(tc.train);
  if (tc.ex->parsed()) return ExportCommand(tc.export_);
  if (tc.ev->parsed()) return EvaluateCommand(tc.eval);
  if (r->parsed()) return RunCommand(run);
  if (t->parsed()) return TokenizeCommand(tok);
  if (l->parsed()) return LogitsCommand(lg);
  if (b->parsed()) return BenchCommand(bn);
  if (i->parsed()) return InspectCommand(inspect_path);
  if (q->parsed()) return QuantizeCommand(qo);
  if (p->parsed()) return PagerSimCommand(ps);
  return 1;
}
