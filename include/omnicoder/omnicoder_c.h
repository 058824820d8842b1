/* OmniCoder C API: the stable interface for bindings (Python ctypes, Swift, Kotlin, ...).
 *
 * Handles are opaque; create them with *_create / oc_model_load and free them with the
 * matching *_free (NULL is accepted and ignored). Every parameter struct comes from its
 * *_default_params() function, so fields added later keep a sensible value.
 *
 * Errors: functions that can fail return an oc_status; on failure the calling thread's
 * oc_last_error() holds a message a user can act on (valid until the thread's next
 * failing call). Nothing here throws, aborts on bad input, or prints.
 *
 * Ownership: an engine outlives its models, a model its sessions. Strings returned by
 * the library live as long as the handle they came from.
 * Threads: a model is read-only and may be shared; an engine runs one session's step at
 * a time; a session and a sampler are used by one thread at a time.
 */
#ifndef OMNICODER_OMNICODER_C_H_
#define OMNICODER_OMNICODER_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define OC_API __declspec(dllexport)
#else
#define OC_API __attribute__((visibility("default")))
#endif

/* Bumped when a struct below changes layout or a function changes meaning. */
#define OC_ABI_VERSION 1

typedef enum oc_status {
  OC_OK = 0,
  OC_ERR_INVALID_ARGUMENT = 1, /* bad option, request or handle */
  OC_ERR_NOT_FOUND = 2,        /* file, tensor or key missing */
  OC_ERR_IO = 3,               /* the OS refused a read/write/map */
  OC_ERR_CORRUPT_FILE = 4,     /* a file violates its format */
  OC_ERR_UNSUPPORTED = 5,      /* valid but not handled (architecture, tensor type, ISA) */
  OC_ERR_OUT_OF_MEMORY = 6,    /* an allocation or memory budget could not be met */
  OC_ERR_INTERNAL = 7,         /* a bug in OmniCoder */
  OC_ERR_BUFFER_TOO_SMALL = 8  /* the output did not fit: the needed size was written */
} oc_status;

typedef enum oc_isa {
  OC_ISA_AUTO = 0,
  OC_ISA_REF = 1,
  OC_ISA_AVX2 = 2,
  OC_ISA_AVX512 = 3,
  OC_ISA_NEON = 4,
  OC_ISA_AMX = 5 /* AVX-512 plus AMX-INT8 tiles for prefill */
} oc_isa;
typedef enum oc_pager_policy { OC_PAGER_LFU = 0, OC_PAGER_LRU2 = 1, OC_PAGER_LRU = 2 } oc_pager_policy;
typedef enum oc_kv_type { OC_KV_F16 = 0, OC_KV_F32 = 1 } oc_kv_type;
typedef enum oc_log_severity {
  OC_LOG_DEBUG = 0,
  OC_LOG_INFO = 1,
  OC_LOG_WARNING = 2,
  OC_LOG_ERROR = 3
} oc_log_severity;

typedef struct oc_engine oc_engine;
typedef struct oc_model oc_model;
typedef struct oc_session oc_session;
typedef struct oc_sampler oc_sampler;

/* The message of this thread's last failed call ("" when none). */
OC_API const char* oc_last_error(void);
/* A short name for a status ("ok", "invalid argument", ...). */
OC_API const char* oc_status_name(oc_status status);
OC_API const char* oc_version(void);
OC_API int32_t oc_abi_version(void);

/* ---- Engine: thread pool, kernels, logging ---- */
typedef void (*oc_log_fn)(oc_log_severity severity, const char* line, void* user);
typedef struct oc_engine_params {
  int32_t n_threads; /* 0: one per core available to the process */
  oc_isa isa;        /* an ISA the CPU lacks is OC_ERR_UNSUPPORTED */
  oc_log_fn log;     /* NULL: discard; may be called from any thread */
  void* log_user;
} oc_engine_params;
OC_API oc_engine_params oc_engine_default_params(void);
OC_API oc_status oc_engine_create(const oc_engine_params* params, oc_engine** out);
OC_API void oc_engine_free(oc_engine* engine);
OC_API int32_t oc_engine_n_threads(const oc_engine* engine);
/* Kernels in use, e.g. "avx512" (valid while the engine lives). */
OC_API const char* oc_engine_isa(const oc_engine* engine);

/* ---- Model: weights, tokenizer, expert pager ---- */
typedef void (*oc_progress_fn)(float fraction, void* user);
typedef struct oc_model_params {
  uint8_t vocab_only;    /* tokenizer only */
  uint8_t check_tensors; /* scan every tensor for NaN/Inf */
  uint8_t use_mmap;      /* compute from the file mapping instead of copying */
  uint8_t prefetch;      /* read the next layer's predicted experts ahead (default 1) */
  uint64_t mem_budget;   /* bytes for the whole process; 0: none (every weight resident) */
  int32_t expert_slots;  /* > 0: page experts through exactly this many slots */
  oc_pager_policy pager_policy;
  const char* routing_trace; /* NULL or a file to record (token, layer, experts) in */
  int32_t planned_ctx_len;   /* the session the budget must leave room for (0: default) */
  int32_t planned_batch;
  oc_kv_type planned_kv_type;
  oc_progress_fn progress;
  void* progress_user;
} oc_model_params;
OC_API oc_model_params oc_model_default_params(void);
/* "1G", "1.5G", "800M", "4096", "auto" -> bytes. */
OC_API oc_status oc_parse_mem_budget(const char* text, uint64_t* bytes);
OC_API oc_status oc_model_load(oc_engine* engine, const char* path, const oc_model_params* params, oc_model** out);
/* Finishes the model's outputs (the routing trace) and reports the first write error. */
OC_API oc_status oc_model_close(oc_model* model);
OC_API void oc_model_free(oc_model* model);

typedef struct oc_model_info {
  const char* arch; /* general.architecture */
  const char* name; /* general.name */
  int32_t n_layers, dim, vocab_size, ctx_len;
  int32_t n_experts, n_experts_active; /* 0 for dense models */
  uint8_t vocab_only;
  uint64_t file_bytes, non_expert_bytes, expert_bytes;
} oc_model_info;
OC_API oc_status oc_model_get_info(const oc_model* model, oc_model_info* out);

/* Tokenizer. Outputs that may not fit take their capacity in *n (tokens or bytes) and
 * return the needed size there; OC_ERR_BUFFER_TOO_SMALL when it did not fit. */
#define OC_TOKENIZE_ADD_SPECIAL 1u   /* BOS/EOS as the model's metadata says */
#define OC_TOKENIZE_PARSE_SPECIAL 2u /* text spelling a control token becomes it */
OC_API oc_status oc_tokenize(const oc_model* model, const char* text, size_t text_len, uint32_t flags, int32_t* tokens,
                             size_t* n_tokens);
/* The bytes a token stands for (control tokens: none). Not NUL-terminated. */
OC_API oc_status oc_token_to_piece(const oc_model* model, int32_t token, char* buf, size_t* len);
/* The concatenated pieces of tokens, NUL-terminated (*len counts the NUL). */
OC_API oc_status oc_detokenize(const oc_model* model, const int32_t* tokens, size_t n_tokens, char* buf, size_t* len);
OC_API int32_t oc_model_bos(const oc_model* model); /* -1 when the model has none */
OC_API int32_t oc_model_is_end_of_generation(const oc_model* model, int32_t token);
/* The memory plan made for a budget ("" without one), NUL-terminated; *len as above. */
OC_API oc_status oc_model_memory_plan(const oc_model* model, char* buf, size_t* len);

typedef struct oc_pager_stats {
  uint8_t paged; /* 0: experts are resident and the counters stay 0 */
  uint64_t acquires, hits, misses;
  uint64_t prefetch_issued, prefetch_hits, prefetch_wasted;
  uint64_t bytes_read;
  double read_seconds, stall_seconds;
  uint64_t predicted, predicted_used, routed;
  uint64_t decode_tokens;
  int32_t slots, total_experts;
} oc_pager_stats;
OC_API oc_status oc_model_pager_stats(const oc_model* model, oc_pager_stats* out);

/* ---- Session: KV cache of one or more sequences ---- */
typedef struct oc_session_params {
  int32_t ctx_len; /* positions per sequence; 0: the trained context, at most 4096 */
  int32_t batch;   /* tokens per forward step (default 64) */
  oc_kv_type kv_type;
  uint8_t allow_beyond_trained_ctx;
  int32_t n_seq;   /* sequence ids [0, n_seq) (default 1) */
  int32_t n_cells; /* KV positions of all sequences together (0: n_seq * ctx_len) */
} oc_session_params;
OC_API oc_session_params oc_session_default_params(void);
OC_API oc_status oc_session_create(oc_engine* engine, oc_model* model, const oc_session_params* params,
                                   oc_session** out);
OC_API void oc_session_free(oc_session* session);

/* Appends tokens to sequence 0 and computes the last token's logits (all_logits != 0:
 * every token's, for scoring). */
OC_API oc_status oc_session_eval(oc_session* session, const int32_t* tokens, size_t n_tokens, int32_t all_logits);

/* One token of a batch over several sequences: its sequence, its position (continuing
 * what the sequence holds) and whether its next-token logits are wanted. */
typedef struct oc_batch_token {
  int32_t token;
  int32_t seq;
  int32_t pos;
  int32_t logits;
} oc_batch_token;
/* Evaluates the tokens in shared forward steps; oc_session_logits(s, i) is then the
 * logits of the i-th token that asked for them. */
OC_API oc_status oc_session_decode(oc_session* session, const oc_batch_token* batch, size_t n_tokens);
OC_API int32_t oc_session_n_outputs(const oc_session* session);
/* vocab_size floats, or NULL for a row that was not computed. index -1: the last row. */
OC_API const float* oc_session_logits(const oc_session* session, int32_t index);
OC_API int32_t oc_session_vocab_size(const oc_session* session);
OC_API int32_t oc_session_n_seq(const oc_session* session);
OC_API int32_t oc_session_position(const oc_session* session); /* tokens in sequence 0 */
OC_API int32_t oc_session_capacity(const oc_session* session);
OC_API void oc_session_reset(oc_session* session);
OC_API uint64_t oc_session_memory_bytes(const oc_session* session);
/* Sequence KV operations. copy: dst becomes the first n_tokens of src, sharing their KV. */
OC_API oc_status oc_session_seq_length(const oc_session* session, int32_t seq, int32_t* n_tokens);
OC_API oc_status oc_session_seq_remove(oc_session* session, int32_t seq);
OC_API oc_status oc_session_seq_truncate(oc_session* session, int32_t seq, int32_t n_tokens);
OC_API oc_status oc_session_seq_copy(oc_session* session, int32_t src, int32_t dst, int32_t n_tokens);

/* ---- Sampler ---- */
typedef struct oc_sampler_params {
  float temperature;    /* <= 0: greedy (default 0.8) */
  int32_t top_k;        /* 0: off (default 40) */
  float top_p;          /* 1: off (default 0.95) */
  float min_p;          /* 0: off (default 0.05) */
  float repeat_penalty; /* 1: off */
  int32_t repeat_last_n;
  uint64_t seed;
} oc_sampler_params;
OC_API oc_sampler_params oc_sampler_default_params(void);
OC_API oc_status oc_sampler_create(const oc_sampler_params* params, int32_t vocab_size, oc_sampler** out);
OC_API void oc_sampler_free(oc_sampler* sampler);
/* Draws a token from vocab_size logits (and records it for the repetition penalty). */
OC_API oc_status oc_sampler_sample(oc_sampler* sampler, const float* logits, int32_t* token);
/* Records a prompt token for the repetition penalty. */
OC_API oc_status oc_sampler_accept(oc_sampler* sampler, int32_t token);

#ifdef __cplusplus
}
#endif

#endif /* OMNICODER_OMNICODER_C_H_ */
