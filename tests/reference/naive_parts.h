// Parts of the naive double-precision oracle (naive_forward.cc): weights dequantized to
// f32 on first use, hyperparameters read straight from the GGUF, and the math of each
// block in plain loops. Written independently of src/model.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "format/gguf.h"

namespace omnicoder::reference {

using Vec = std::vector<double>;

struct Weights {
  const GgufFile* f;
  std::map<std::string, std::vector<float>> cache;
  const std::vector<float>* Get(const std::string& name);
  const std::vector<float>& Need(const std::string& name);  // aborts the test if missing
};

// Hyperparameters as the oracle understands them.
struct Hyper {
  std::string arch;
  int dim = 0, n_layers = 0, n_heads = 0, n_kv = 0, head_dim = 0, v_dim = 0, n_rot = 0;
  int n_exp = 0, k_exp = 0, leading_dense = 0, window = 0, window_period = 2;
  int kv_rank = 0, q_rank = 0, nope = 0;  // MLA
  double eps = 1e-5, base = 10000.0, base_swa = 10000.0;
  bool neox = false, norm_topk = false;
  int gating = 1;  // 1 softmax over all, 2 sigmoid, 3 softmax over the chosen logits
  double w_scale = 1.0;
  int groups = 1, groups_used = 1;
  // RoPE: angle for pair i at position p, and the cos/sin magnitude.
  double freq_scale = 1.0, ext = 0.0, corr_low = 0.0, corr_high = 0.0, rope_mag = 1.0;
  double kq_scale = 0.0;
};
Hyper ReadHyper(const GgufFile& f);

Vec MatVec(const std::vector<float>& w, const Vec& x, int rows, int e = 0);
Vec RmsNorm(const Vec& x, const float* w, double eps, size_t off = 0, size_t n = 0);
// Rotates the first n_rot dims of each of n_heads heads (head stride hd, starting at off).
void Rope(const Hyper& h, Vec& v, int n_heads, int hd, int off, int pos, double base);

// One layer's FFN (dense or MoE, shared experts, biases, activations) for one token.
Vec FfnForward(Weights& w, const Hyper& h, int il, const Vec& x);

}  // namespace omnicoder::reference
