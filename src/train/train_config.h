// TrainConfig: a training run as data (model shape, optimizer, schedule, data, budget),
// read from a "key = value" file so one file reproduces a run.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace omnicoder {

struct TrainModelConfig {
  int vocab_size = 8192;
  int dim = 256;
  int n_layers = 6;
  int n_heads = 4;
  int n_kv_heads = 4;
  int head_dim = 64;
  int ffn_dim = 256;  // per expert (MoE) or the dense FFN width
  int n_experts = 8;  // 0: dense model
  int n_experts_active = 2;
  bool tied_embeddings = false;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  int ctx_len = 512;  // trained sequence length
};

struct TrainConfig {
  std::string name = "omnicoder-nano";
  TrainModelConfig model;
  // optimizer
  float lr = 3e-3f;
  float min_lr_ratio = 0.1f;  // cosine decays to lr * min_lr_ratio
  int warmup_steps = 200;
  int total_steps = 5000;
  float beta1 = 0.9f, beta2 = 0.95f, adam_eps = 1e-8f;
  float weight_decay = 0.1f;  // matrices only (not norms)
  float grad_clip = 1.0f;
  float aux_loss_coef = 0.01f;  // load balancing (Switch form: alpha * N * sum f_i P_i)
  float z_loss_coef = 1e-3f;    // router z-loss
  float init_std = 0.02f;
  // batch
  int batch_seqs = 32;  // sequences per optimizer step
  int micro_seqs = 8;   // sequences per forward/backward pass
  uint64_t seed = 1;
  // bookkeeping
  int checkpoint_every = 100;  // steps
  int eval_every = 250;
  int eval_tokens = 65536;  // per validation set during training
  std::string data_dir;     // token shards (shards.tsv)
  std::string tokenizer;    // tokenizer GGUF (vocabulary only)
  std::string out_dir;      // checkpoints, log, exported model

  int SeqLen() const { return model.ctx_len; }
};

Result<TrainConfig> ParseTrainConfig(const std::string& text);
// Canonical text of every field (hashed into checkpoints).
std::string TrainConfigText(const TrainConfig& c);
// Range checks; messages name the key.
Status ValidateTrainConfig(const TrainConfig& c);

}  // namespace omnicoder
