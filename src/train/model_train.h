// The training forward/backward pass of the llama architecture (dense or Mixtral MoE):
// embedding, per layer RMSNorm -> GQA attention with RoPE -> residual -> RMSNorm ->
// SwiGLU FFN or MoE -> residual, final RMSNorm, output projection, cross-entropy.
//
// A TrainModel owns the saved activations for micro-batches of up to n_seqs sequences;
// ForwardBackward accumulates gradients into a ModelParams-shaped gradient buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "train/moe_train.h"
#include "train/params.h"

namespace omnicoder {

struct StepStats {
  double ce_sum = 0;  // sum of next-token cross-entropy (nats)
  int64_t n_predicted = 0;
  AuxLoss aux;                                   // summed over layers (entropy: summed layer means)
  std::vector<LayerRouting>* routing = nullptr;  // per layer (MoE), accumulated when set
};

// n_seqs rows of seq_len + 1 token ids: inputs and next-token targets.
struct TokenBatch {
  const int32_t* tokens;
  int n_seqs;
};
// Loss = ce_scale * sum CE + the auxiliary losses (weighted as coef says).
struct LossWeights {
  float ce_scale;
  AuxCoef coef;
};

class TrainModel {
 public:
  static Result<std::unique_ptr<TrainModel>> Create(const TrainModelConfig& config, int max_seqs, int n_threads);
  // Bytes of activations held.
  uint64_t ActivationBytes() const;

  // tokens: n_seqs rows of seq_len + 1 ids (inputs and next-token targets). Loss is
  // ce_scale * sum CE + grad_scale-weighted aux losses; grads accumulate into g.
  Status ForwardBackward(TrainContext& ctx, const ModelParams& p, const ModelParams& g, const TokenBatch& batch,
                         const LossWeights& weights, StepStats* stats);
  // Forward only: CE over every position (stats), no gradients.
  Status Forward(TrainContext& ctx, const ModelParams& p, const int32_t* tokens, int n_seqs, StepStats* stats);
  // Per-position next-token log-probabilities of a forward pass: logits of row r to `out`.
  Status Logits(TrainContext& ctx, const ModelParams& p, const int32_t* tokens, int n_tokens, float* out);

 private:
  struct Layer {
    float *x_in, *xn1, *rstd1, *q, *k, *v, *probs, *o, *x_mid, *xn2, *rstd2;
    FfnActivations ffn;
  };
  TrainModel() = default;
  // On inputs_ (n_seqs rows of seq_len ids), against targets_.
  void ForwardLayers(TrainContext& ctx, const ModelParams& p, int n_seqs, int seq_len, const AuxCoef& coef,
                     StepStats* stats);
  void BackwardLayers(TrainContext& ctx, const ModelParams& p, const ModelParams& g, int n_seqs, int seq_len,
                      const AuxCoef& coef);
  void OutputLoss(TrainContext& ctx, const ModelParams& p, const ModelParams* g, int n, float ce_scale,
                  StepStats* stats);

  TrainModelConfig c_;
  int max_seqs_ = 0;
  AlignedBuffer arena_;
  std::vector<Layer> layers_;
  float *x_final_, *xnf_, *rstdf_, *dx_, *dxn_, *dq_, *dk_, *dv_, *do_, *attn_scratch_, *ffn_scratch_, *logits_;
  int32_t *inputs_, *targets_, *pos_;
  float* rope_;  // [ctx_len, head_dim / 2] cos/sin pairs
};

}  // namespace omnicoder
