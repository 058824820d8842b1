/* The C API from C: handles, default params, error codes and thread-local messages,
 * tokenizer, batched evaluation against single-sequence evaluation, sequence KV
 * operations, sampling, memory plan and pager statistics.
 *   c_api_test MODEL.gguf WORK_DIR [VOCAB.gguf]
 * MODEL: a tiny MoE model; VOCAB: a real BPE vocabulary for the round trip (optional). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnicoder/omnicoder_c.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                                              \
  do {                                                                                                           \
    ++g_checks;                                                                                                  \
    if (!(cond)) {                                                                                               \
      ++g_failures;                                                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, oc_last_error()); \
    }                                                                                                            \
  } while (0)

/* Stops the test (as a failure) when a step the rest depends on did not work. */
#define REQUIRE(cond)                                                                                      \
  do {                                                                                                     \
    ++g_checks;                                                                                            \
    if (!(cond)) {                                                                                         \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s (last error: %s); stopping\n", __FILE__, __LINE__, #cond, \
              oc_last_error());                                                                            \
      exit(1);                                                                                             \
    }                                                                                                      \
  } while (0)

static const char* g_model_path;
static const char* g_work_dir;

static int Contains(const char* haystack, const char* needle) {
  return strstr(haystack, needle) != NULL;
}

static void TestBasics(void) {
  CHECK(oc_abi_version() == OC_ABI_VERSION);
  CHECK(strlen(oc_version()) > 0);
  CHECK(strcmp(oc_status_name(OC_ERR_CORRUPT_FILE), "corrupt file") == 0);
  oc_engine_params ep = oc_engine_default_params();
  CHECK(ep.n_threads == 0 && ep.isa == OC_ISA_AUTO && ep.log == NULL);
  oc_model_params mp = oc_model_default_params();
  CHECK(mp.prefetch == 1 && mp.pager_policy == OC_PAGER_LFU && mp.mem_budget == 0 && mp.planned_batch == 64);
  oc_session_params sp = oc_session_default_params();
  CHECK(sp.n_seq == 1 && sp.batch == 64 && sp.kv_type == OC_KV_F16);
  oc_sampler_params smp = oc_sampler_default_params();
  CHECK(fabsf(smp.temperature - 0.8f) < 1e-6f && smp.top_k == 40);
  uint64_t bytes = 0;
  CHECK(oc_parse_mem_budget("1.5G", &bytes) == OC_OK && bytes == 1610612736ull);
  CHECK(oc_parse_mem_budget("lots", &bytes) == OC_ERR_INVALID_ARGUMENT);
}

static void TestErrors(oc_engine* engine) {
  CHECK(oc_engine_create(NULL, NULL) == OC_ERR_INVALID_ARGUMENT);
  CHECK(Contains(oc_last_error(), "out is NULL"));
  oc_engine_params bad = oc_engine_default_params();
  bad.isa = (oc_isa)99;
  oc_engine* e = (oc_engine*)1;
  CHECK(oc_engine_create(&bad, &e) == OC_ERR_INVALID_ARGUMENT && e == NULL);
  CHECK(Contains(oc_last_error(), "isa"));
  bad = oc_engine_default_params();
  bad.n_threads = -3;
  CHECK(oc_engine_create(&bad, &e) == OC_ERR_INVALID_ARGUMENT);

  oc_model* m = NULL;
  char path[4096];
  snprintf(path, sizeof(path), "%s/does-not-exist.gguf", g_work_dir);
  oc_status s = oc_model_load(engine, path, NULL, &m);
  CHECK(s == OC_ERR_NOT_FOUND || s == OC_ERR_IO);
  CHECK(m == NULL && Contains(oc_last_error(), "does-not-exist.gguf"));
  /* A file that is not a GGUF. */
  snprintf(path, sizeof(path), "%s/garbage.gguf", g_work_dir);
  FILE* f = fopen(path, "wb");
  REQUIRE(f != NULL);
  for (int i = 0; i < 4096; ++i) fputc((i * 7919) & 0xff, f);
  fclose(f);
  CHECK(oc_model_load(engine, path, NULL, &m) == OC_ERR_CORRUPT_FILE && m == NULL);
  CHECK(strlen(oc_last_error()) > 0);
  oc_model_params mp = oc_model_default_params();
  mp.pager_policy = (oc_pager_policy)7;
  CHECK(oc_model_load(engine, g_model_path, &mp, &m) == OC_ERR_INVALID_ARGUMENT);
  /* Freeing NULL is allowed. */
  oc_engine_free(NULL);
  oc_model_free(NULL);
  oc_session_free(NULL);
  oc_sampler_free(NULL);
}

/* Errors are per thread: a failure on another thread leaves this thread's message alone. */
static void* FailOnOtherThread(void* arg) {
  (void)arg;
  uint64_t b;
  oc_parse_mem_budget("other-thread-garbage", &b);
  return strdup(oc_last_error());
}

static void TestThreadLocalError(void) {
  uint64_t b;
  CHECK(oc_parse_mem_budget("this-thread-garbage", &b) != OC_OK);
  pthread_t t;
  void* other = NULL;
  REQUIRE(pthread_create(&t, NULL, FailOnOtherThread, NULL) == 0);
  pthread_join(t, &other);
  CHECK(Contains(oc_last_error(), "this-thread-garbage"));
  CHECK(other != NULL && Contains((const char*)other, "other-thread-garbage"));
  free(other);
}

/* Detokenize(Tokenize(text)) == text on a real byte-level BPE vocabulary (vocab only). */
static void TestRoundTrip(oc_engine* engine, const char* vocab_path) {
  FILE* f = fopen(vocab_path, "rb");
  if (!f) {
    printf("round trip: %s absent, not run\n", vocab_path);
    return;
  }
  fclose(f);
  oc_model_params mp = oc_model_default_params();
  mp.vocab_only = 1;
  oc_model* vocab = NULL;
  REQUIRE(oc_model_load(engine, vocab_path, &mp, &vocab) == OC_OK);
  oc_model_info info;
  CHECK(oc_model_get_info(vocab, &info) == OC_OK && info.vocab_only == 1);
  const char* text = "def add(a, b):\n    return a + b  # \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n";
  int32_t tokens[256];
  size_t n = 256;
  REQUIRE(oc_tokenize(vocab, text, strlen(text), 0, tokens, &n) == OC_OK);
  char buf[512];
  size_t len = sizeof(buf);
  REQUIRE(oc_detokenize(vocab, tokens, n, buf, &len) == OC_OK);
  CHECK(len == strlen(text) + 1 && strcmp(buf, text) == 0);
  oc_session* s = NULL;
  CHECK(oc_session_create(engine, vocab, NULL, &s) == OC_ERR_INVALID_ARGUMENT && s == NULL);
  oc_model_free(vocab);
}

static void TestTokenizer(const oc_model* model) {
  const char* text = "def add(a, b):\n    return a + b\n";
  size_t n = 2;
  int32_t small[2];
  CHECK(oc_tokenize(model, text, strlen(text), 0, small, &n) == OC_ERR_BUFFER_TOO_SMALL);
  const size_t needed = n;
  CHECK(needed > 2);
  size_t query = 0;
  CHECK(oc_tokenize(model, text, strlen(text), 0, NULL, &query) == OC_ERR_BUFFER_TOO_SMALL && query == needed);
  int32_t tokens[256];
  n = 256;
  REQUIRE(oc_tokenize(model, text, strlen(text), 0, tokens, &n) == OC_OK && n == needed);
  char buf[512];
  size_t len = sizeof(buf);
  REQUIRE(oc_detokenize(model, tokens, n, buf, &len) == OC_OK);
  /* The detokenized text is the concatenation of the tokens' pieces. */
  char pieces[512];
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t piece_len = sizeof(pieces) - used;
    REQUIRE(oc_token_to_piece(model, tokens[i], pieces + used, &piece_len) == OC_OK);
    used += piece_len;
  }
  CHECK(len == used + 1 && memcmp(buf, pieces, used) == 0 && buf[used] == '\0');
  const size_t full = len;
  len = 4;
  CHECK(oc_detokenize(model, tokens, n, buf, &len) == OC_ERR_BUFFER_TOO_SMALL && len == full);
  int32_t bad = 1 << 30;
  len = sizeof(buf);
  CHECK(oc_detokenize(model, &bad, 1, buf, &len) == OC_ERR_INVALID_ARGUMENT);
  CHECK(oc_tokenize(model, text, strlen(text), 0x80, tokens, &n) == OC_ERR_INVALID_ARGUMENT);
}

static int ArgMax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

/* Logits of `tokens` evaluated alone in a fresh one-sequence session (copied into out). */
static void EvalAlone(oc_engine* engine, oc_model* model, const int32_t* tokens, size_t n, float* out, int vocab) {
  oc_session_params sp = oc_session_default_params();
  sp.kv_type = OC_KV_F32;
  sp.ctx_len = 128;
  oc_session* s = NULL;
  REQUIRE(oc_session_create(engine, model, &sp, &s) == OC_OK);
  REQUIRE(oc_session_eval(s, tokens, n, 0) == OC_OK);
  const float* l = oc_session_logits(s, -1);
  REQUIRE(l != NULL);
  memcpy(out, l, sizeof(float) * (size_t)vocab);
  oc_session_free(s);
}

static void TestBatchedSequences(oc_engine* engine, oc_model* model, int vocab) {
  /* Three prompts of different lengths decoded together, then one more token each. */
  const int32_t prompts[3][6] = {{5, 17, 42, 99, 7, 3}, {11, 12, 13}, {200, 201, 202, 203, 204}};
  const int lengths[3] = {6, 3, 5};
  oc_session_params sp = oc_session_default_params();
  sp.kv_type = OC_KV_F32;
  sp.ctx_len = 128;
  sp.n_seq = 3;
  oc_session* s = NULL;
  REQUIRE(oc_session_create(engine, model, &sp, &s) == OC_OK);
  CHECK(oc_session_n_seq(s) == 3 && oc_session_vocab_size(s) == vocab);
  oc_batch_token batch[16];
  size_t nb = 0;
  for (int q = 0; q < 3; ++q) {
    for (int i = 0; i < lengths[q]; ++i) {
      oc_batch_token t = {prompts[q][i], q, i, i == lengths[q] - 1};
      batch[nb++] = t;
    }
  }
  REQUIRE(oc_session_decode(s, batch, nb) == OC_OK);
  CHECK(oc_session_n_outputs(s) == 3);
  float* alone = (float*)malloc(sizeof(float) * (size_t)vocab);
  REQUIRE(alone != NULL);
  for (int q = 0; q < 3; ++q) {
    EvalAlone(engine, model, prompts[q], (size_t)lengths[q], alone, vocab);
    const float* got = oc_session_logits(s, q);
    REQUIRE(got != NULL);
    CHECK(memcmp(got, alone, sizeof(float) * (size_t)vocab) == 0); /* F32 KV: bitwise */
    int32_t len = -1;
    CHECK(oc_session_seq_length(s, q, &len) == OC_OK && len == lengths[q]);
  }
  CHECK(oc_session_logits(s, 3) == NULL);
  /* Sequence 2 becomes a copy of sequence 0's first 4 tokens; both continue with 77. */
  CHECK(oc_session_seq_copy(s, 0, 2, 4) == OC_OK);
  oc_batch_token next[2] = {{77, 0, 6, 1}, {77, 2, 4, 1}};
  REQUIRE(oc_session_decode(s, next, 2) == OC_OK);
  const int32_t seq0[7] = {5, 17, 42, 99, 7, 3, 77};
  const int32_t seq2[5] = {5, 17, 42, 99, 77};
  EvalAlone(engine, model, seq0, 7, alone, vocab);
  CHECK(memcmp(oc_session_logits(s, 0), alone, sizeof(float) * (size_t)vocab) == 0);
  EvalAlone(engine, model, seq2, 5, alone, vocab);
  CHECK(memcmp(oc_session_logits(s, 1), alone, sizeof(float) * (size_t)vocab) == 0);
  /* Truncate and remove; bad ids and positions are errors, not crashes. */
  CHECK(oc_session_seq_truncate(s, 0, 2) == OC_OK);
  int32_t len = -1;
  CHECK(oc_session_seq_length(s, 0, &len) == OC_OK && len == 2);
  CHECK(oc_session_seq_remove(s, 1) == OC_OK);
  CHECK(oc_session_seq_length(s, 1, &len) == OC_OK && len == 0);
  CHECK(oc_session_seq_length(s, 3, &len) == OC_ERR_INVALID_ARGUMENT);
  CHECK(oc_session_seq_copy(s, 0, 9, 1) == OC_ERR_INVALID_ARGUMENT);
  oc_batch_token gap = {1, 0, 50, 1}; /* position 50 does not continue a 2-token sequence */
  CHECK(oc_session_decode(s, &gap, 1) == OC_ERR_INVALID_ARGUMENT);
  oc_batch_token oov = {1 << 30, 0, 2, 1};
  CHECK(oc_session_decode(s, &oov, 1) == OC_ERR_INVALID_ARGUMENT);
  CHECK(oc_session_decode(s, NULL, 1) == OC_ERR_INVALID_ARGUMENT);
  CHECK(oc_session_memory_bytes(s) > 0);
  free(alone);
  oc_session_free(s);
}

static void TestGenerate(oc_engine* engine, oc_model* model, int vocab) {
  oc_session* s = NULL;
  REQUIRE(oc_session_create(engine, model, NULL, &s) == OC_OK);
  const int32_t prompt[4] = {1, 2, 3, 4};
  REQUIRE(oc_session_eval(s, prompt, 4, 0) == OC_OK);
  oc_sampler_params greedy = oc_sampler_default_params();
  greedy.temperature = 0;
  oc_sampler* sampler = NULL;
  REQUIRE(oc_sampler_create(&greedy, vocab, &sampler) == OC_OK);
  for (int i = 0; i < 8; ++i) {
    const float* l = oc_session_logits(s, -1);
    REQUIRE(l != NULL);
    int32_t tok = -1;
    REQUIRE(oc_sampler_sample(sampler, l, &tok) == OC_OK);
    CHECK(tok == ArgMax(l, vocab));
    REQUIRE(oc_session_eval(s, &tok, 1, 0) == OC_OK);
  }
  CHECK(oc_session_position(s) == 12);
  CHECK(oc_sampler_accept(sampler, vocab) == OC_ERR_INVALID_ARGUMENT);
  oc_sampler_free(sampler);
  oc_sampler_params bad = oc_sampler_default_params();
  bad.top_p = 2.0f;
  CHECK(oc_sampler_create(&bad, vocab, &sampler) == OC_ERR_INVALID_ARGUMENT && sampler == NULL);
  CHECK(Contains(oc_last_error(), "top-p"));
  oc_session_reset(s);
  CHECK(oc_session_position(s) == 0);
  oc_session_free(s);
}

static void TestPagedModel(oc_engine* engine) {
  oc_model_params mp = oc_model_default_params();
  mp.expert_slots = 4;
  mp.planned_ctx_len = 64;
  oc_model* model = NULL;
  REQUIRE(oc_model_load(engine, g_model_path, &mp, &model) == OC_OK);
  size_t len = 0;
  CHECK(oc_model_memory_plan(model, NULL, &len) == OC_ERR_BUFFER_TOO_SMALL && len > 1);
  char* plan = (char*)malloc(len);
  REQUIRE(plan != NULL);
  CHECK(oc_model_memory_plan(model, plan, &len) == OC_OK && Contains(plan, "slot"));
  free(plan);
  oc_session_params sp = oc_session_default_params();
  sp.ctx_len = 64;
  oc_session* s = NULL;
  REQUIRE(oc_session_create(engine, model, &sp, &s) == OC_OK);
  const int32_t prompt[5] = {9, 8, 7, 6, 5};
  REQUIRE(oc_session_eval(s, prompt, 5, 0) == OC_OK);
  oc_pager_stats st;
  CHECK(oc_model_pager_stats(model, &st) == OC_OK);
  CHECK(st.paged == 1 && st.slots == 4 && st.acquires > 0 && st.acquires == st.hits + st.misses + st.prefetch_hits);
  oc_session_free(s);
  CHECK(oc_model_close(model) == OC_OK);
  oc_model_free(model);
}

static int g_log_lines = 0;
static void CountLog(oc_log_severity severity, const char* line, void* user) {
  (void)severity;
  (void)line;
  *(int*)user += 1;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s MODEL.gguf WORK_DIR [VOCAB.gguf]\n", argv[0]);
    return 2;
  }
  g_model_path = argv[1];
  g_work_dir = argv[2];
  TestBasics();
  TestThreadLocalError();
  oc_engine_params ep = oc_engine_default_params();
  ep.n_threads = 2;
  ep.log = CountLog;
  ep.log_user = &g_log_lines;
  oc_engine* engine = NULL;
  REQUIRE(oc_engine_create(&ep, &engine) == OC_OK && engine != NULL);
  CHECK(oc_engine_n_threads(engine) == 2 && strlen(oc_engine_isa(engine)) > 0);
  TestErrors(engine);
  oc_model* model = NULL;
  REQUIRE(oc_model_load(engine, g_model_path, NULL, &model) == OC_OK);
  CHECK(g_log_lines > 0); /* the engine logs what it loaded */
  oc_model_info info;
  REQUIRE(oc_model_get_info(model, &info) == OC_OK);
  CHECK(info.n_experts > 0 && info.n_experts_active > 0 && info.vocab_size > 256 && strlen(info.arch) > 0);
  oc_pager_stats st;
  CHECK(oc_model_pager_stats(model, &st) == OC_OK && st.paged == 0);
  TestTokenizer(model);
  if (argc == 4) TestRoundTrip(engine, argv[3]);
  TestBatchedSequences(engine, model, info.vocab_size);
  TestGenerate(engine, model, info.vocab_size);
  oc_model_free(model);
  TestPagedModel(engine);
  oc_engine_free(engine);
  printf("c_api_test: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
