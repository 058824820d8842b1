/* Greedy continuation of a prompt through the installed C API: greedy_c MODEL PROMPT N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omnicoder/omnicoder_c.h>

static int Fail(const char* what) {
  fprintf(stderr, "greedy_c: %s: %s\n", what, oc_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL PROMPT N\n", argv[0]);
    return 2;
  }
  oc_engine* engine = NULL;
  oc_model* model = NULL;
  oc_session* session = NULL;
  oc_sampler* sampler = NULL;
  if (oc_engine_create(NULL, &engine) != OC_OK) return Fail("engine");
  if (oc_model_load(engine, argv[1], NULL, &model) != OC_OK) return Fail("load");
  if (oc_session_create(engine, model, NULL, &session) != OC_OK) return Fail("session");
  oc_sampler_params sp = oc_sampler_default_params();
  sp.temperature = 0;
  if (oc_sampler_create(&sp, oc_session_vocab_size(session), &sampler) != OC_OK) return Fail("sampler");
  int32_t tokens[4096];
  size_t n = 4096;
  if (oc_tokenize(model, argv[2], strlen(argv[2]), OC_TOKENIZE_ADD_SPECIAL, tokens, &n) != OC_OK) {
    return Fail("tokenize");
  }
  if (oc_session_eval(session, tokens, n, 0) != OC_OK) return Fail("eval");
  const int n_predict = atoi(argv[3]);
  for (int i = 0; i < n_predict; ++i) {
    int32_t t;
    if (oc_sampler_sample(sampler, oc_session_logits(session, -1), &t) != OC_OK) return Fail("sample");
    if (oc_model_is_end_of_generation(model, t)) break;
    char piece[256];
    size_t len = sizeof(piece);
    if (oc_token_to_piece(model, t, piece, &len) != OC_OK) return Fail("piece");
    fwrite(piece, 1, len, stdout);
    if (oc_session_eval(session, &t, 1, 0) != OC_OK) return Fail("eval");
  }
  oc_sampler_free(sampler);
  oc_session_free(session);
  oc_model_free(model);
  oc_engine_free(engine);
  return 0;
}
