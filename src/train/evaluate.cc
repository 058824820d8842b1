// EvaluateRun: validation loss and bits per byte over whole sets, routing per layer.
#include "train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/aligned_buffer.h"
#include "threading/thread_pool.h"
#include "train/checkpoint.h"
#include "train/model_train.h"
#include "train/params.h"
#include "train/shards.h"
#include "train/trainer.h"

namespace omnicoder {

namespace {

struct EvalModel {
  const TrainConfig* c;
  TrainModel* model;
  ModelParams params;
};

// Every full sequence of the set (stride seq_len; the tail shorter than one is left out).
ValidationResult EvaluateSet(TrainContext& ctx, const EvalModel& m, const std::string& kind, const ShardSet& shards,
                             std::vector<LayerRouting>* routing) {
  std::vector<int32_t> tokens;
  uint64_t bytes = 0;
  shards.Gather(kind, &tokens, &bytes);
  ValidationResult r;
  r.name = kind;
  r.n_tokens = static_cast<int64_t>(tokens.size());
  r.n_bytes = static_cast<int64_t>(bytes);
  const int S = m.c->SeqLen(), B = m.c->micro_seqs;
  std::vector<int32_t> batch(static_cast<size_t>(B) * (S + 1));
  StepStats stats;
  stats.routing = routing;
  for (int64_t pos = 0; pos + S + 1 <= r.n_tokens;) {
    int n = 0;
    for (; n < B && pos + S + 1 <= r.n_tokens; ++n, pos += S) {
      std::memcpy(batch.data() + static_cast<size_t>(n) * (S + 1), tokens.data() + pos, sizeof(int32_t) * (S + 1));
    }
    if (!m.model->Forward(ctx, m.params, batch.data(), n, &stats).ok()) break;
  }
  r.n_predicted = stats.n_predicted;
  r.nats_per_token = stats.n_predicted ? stats.ce_sum / stats.n_predicted : 0;
  // The scored tokens' share of the set's bytes (tokens carry about equal bytes on average).
  const double scored_bytes = r.n_tokens ? static_cast<double>(bytes) * r.n_predicted / r.n_tokens : 0;
  r.bits_per_byte = scored_bytes > 0 ? stats.ce_sum / std::log(2.0) / scored_bytes : 0;
  return r;
}

LayerRoutingStats Summarize(int layer, const LayerRouting& r) {
  LayerRoutingStats s;
  s.layer = layer;
  int64_t total = 0, most = 0, least = r.slots.empty() ? 0 : r.slots[0];
  for (int64_t v : r.slots) total += v, most = std::max(most, v), least = std::min(least, v);
  const double mean = r.slots.empty() ? 0 : static_cast<double>(total) / r.slots.size();
  s.max_over_mean = mean > 0 ? most / mean : 0;
  s.min_over_mean = mean > 0 ? least / mean : 0;
  s.router_entropy = r.n_tokens ? r.entropy_sum / r.n_tokens : 0;
  s.max_entropy = r.slots.empty() ? 0 : std::log(static_cast<double>(r.slots.size()));
  return s;
}

}  // namespace

Result<TrainEvaluation> EvaluateRun(const TrainConfig& c, TrainContext& ctx) {
  OC_RETURN_IF_ERROR(ValidateTrainConfig(c));
  OC_ASSIGN_OR_RETURN(ShardSet shards, LoadShards(c.data_dir, c.model.vocab_size));
  const std::vector<ParamTensor> layout = ParamLayout(c.model, c.init_std);
  const size_t n = ParamCount(layout);
  AlignedBuffer params, m, v;
  if (!params.Allocate(n * 4) || !m.Allocate(n * 4) || !v.Allocate(n * 4)) return OutOfMemory("evaluate: no memory");
  const std::string ckpt = c.out_dir + "/checkpoint.ckpt";
  OC_ASSIGN_OR_RETURN(CheckpointHeader h, LoadCheckpoint(ckpt, {params.as<float>(), m.as<float>(), v.as<float>(), n}));
  if (h.config_sha256 != TrainConfigSha256(c)) return InvalidArgument("'" + ckpt + "' was trained with another config");
  if (h.data_sha256 != shards.manifest_sha256) {
    return InvalidArgument("'" + ckpt + "' was trained on other token shards than '" + c.data_dir + "'");
  }
  OC_ASSIGN_OR_RETURN(std::unique_ptr<TrainModel> model, TrainModel::Create(c.model, c.micro_seqs, ctx.pool->size()));
  const EvalModel em{&c, model.get(), BindParams(c.model, layout, params.as<float>())};
  TrainEvaluation e;
  e.step = h.step;
  e.elapsed_seconds = h.elapsed_seconds;
  e.n_experts = c.model.n_experts;
  std::vector<LayerRouting> routing(c.model.n_layers);
  for (const char* kind : {"val-code", "val-english"}) e.sets.push_back(EvaluateSet(ctx, em, kind, shards, &routing));
  if (c.model.n_experts > 0) {
    for (int l = 0; l < c.model.n_layers; ++l) e.layers.push_back(Summarize(l, routing[l]));
  }
  return e;
}

}  // namespace omnicoder
