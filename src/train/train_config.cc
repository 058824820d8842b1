// Reading, printing and checking TrainConfig.
#include "train/train_config.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "base/strings.h"

namespace omnicoder {

namespace {

struct Field {
  std::function<Status(const std::string&)> set;
  std::function<std::string()> get;
};

Status ParseInt(const std::string& key, const std::string& v, int* out) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (end == v.c_str() || *end || x < -(1L << 30) || x > (1L << 30)) {
    return InvalidArgument("train config: '" + key + "' must be an integer, got '" + v + "'");
  }
  *out = static_cast<int>(x);
  return Status::Ok();
}

Status ParseFloat(const std::string& key, const std::string& v, float* out) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end || !std::isfinite(x)) {
    return InvalidArgument("train config: '" + key + "' must be a finite number, got '" + v + "'");
  }
  *out = static_cast<float>(x);
  return Status::Ok();
}

// Fields that are not a plain number or string.
void AddSpecialFields(TrainConfig* c, std::map<std::string, Field>* fields) {
  std::map<std::string, Field>& f = *fields;
  f["tied_embeddings"] = {[c](const std::string& v) {
                            if (v != "true" && v != "false")
                              return InvalidArgument("train config: tied_embeddings is true or false");
                            c->model.tied_embeddings = v == "true";
                            return Status::Ok();
                          },
                          [c] { return std::string(c->model.tied_embeddings ? "true" : "false"); }};
  f["seed"] = {[c](const std::string& v) {
                 char* end = nullptr;
                 c->seed = std::strtoull(v.c_str(), &end, 10);
                 if (end == v.c_str() || *end || v[0] == '-') return InvalidArgument("train config: seed must be >= 0");
                 return Status::Ok();
               },
               [c] { return std::to_string(c->seed); }};
}

std::map<std::string, Field> Fields(TrainConfig* c) {
  std::map<std::string, Field> f;
  AddSpecialFields(c, &f);
  auto add_int = [&](const char* k, int* p) {
    f[k] = {[k, p](const std::string& v) { return ParseInt(k, v, p); }, [p] { return std::to_string(*p); }};
  };
  auto add_float = [&](const char* k, float* p) {
    f[k] = {[k, p](const std::string& v) { return ParseFloat(k, v, p); }, [p] { return StrFormat("%.9g", *p); }};
  };
  auto add_str = [&](const char* k, std::string* p) {
    f[k] = {[p](const std::string& v) {
              *p = v;
              return Status::Ok();
            },
            [p] { return *p; }};
  };
  TrainModelConfig& m = c->model;
  add_str("name", &c->name);
  add_int("vocab_size", &m.vocab_size);
  add_int("dim", &m.dim);
  add_int("n_layers", &m.n_layers);
  add_int("n_heads", &m.n_heads);
  add_int("n_kv_heads", &m.n_kv_heads);
  add_int("head_dim", &m.head_dim);
  add_int("ffn_dim", &m.ffn_dim);
  add_int("n_experts", &m.n_experts);
  add_int("n_experts_active", &m.n_experts_active);
  add_float("rope_base", &m.rope_base);
  add_float("rms_eps", &m.rms_eps);
  add_int("ctx_len", &m.ctx_len);
  add_float("lr", &c->lr);
  add_float("min_lr_ratio", &c->min_lr_ratio);
  add_int("warmup_steps", &c->warmup_steps);
  add_int("total_steps", &c->total_steps);
  add_float("beta1", &c->beta1);
  add_float("beta2", &c->beta2);
  add_float("adam_eps", &c->adam_eps);
  add_float("weight_decay", &c->weight_decay);
  add_float("grad_clip", &c->grad_clip);
  add_float("aux_loss_coef", &c->aux_loss_coef);
  add_float("z_loss_coef", &c->z_loss_coef);
  add_float("init_std", &c->init_std);
  add_int("batch_seqs", &c->batch_seqs);
  add_int("micro_seqs", &c->micro_seqs);
  add_int("checkpoint_every", &c->checkpoint_every);
  add_int("eval_every", &c->eval_every);
  add_int("eval_tokens", &c->eval_tokens);
  add_str("data_dir", &c->data_dir);
  add_str("tokenizer", &c->tokenizer);
  add_str("out_dir", &c->out_dir);
  return f;
}

}  // namespace

Result<TrainConfig> ParseTrainConfig(const std::string& text) {
  TrainConfig c;
  std::map<std::string, Field> fields = Fields(&c);
  for (const auto& [n, line] : ContentLines(text)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return InvalidArgument(StrFormat("train config line %d: want 'key = value'", n));
    const std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    auto it = fields.find(key);
    if (it == fields.end()) return InvalidArgument(StrFormat("train config line %d: unknown key '%s'", n, key.c_str()));
    OC_RETURN_IF_ERROR(it->second.set(value));
  }
  OC_RETURN_IF_ERROR(ValidateTrainConfig(c));
  return c;
}

std::string TrainConfigText(const TrainConfig& c) {
  TrainConfig copy = c;
  std::string s;
  for (const auto& [k, f] : Fields(&copy)) s += k + " = " + f.get() + "\n";
  return s;
}

Status ValidateTrainConfig(const TrainConfig& c) {
  const TrainModelConfig& m = c.model;
  auto range = [](const char* k, double v, double lo, double hi) -> Status {
    if (!(v >= lo && v <= hi))
      return InvalidArgument(StrFormat("train config: %s = %g is outside [%g, %g]", k, v, lo, hi));
    return Status::Ok();
  };
  OC_RETURN_IF_ERROR(range("vocab_size", m.vocab_size, 16, 65536));
  OC_RETURN_IF_ERROR(range("dim", m.dim, 8, 8192));
  OC_RETURN_IF_ERROR(range("n_layers", m.n_layers, 1, 128));
  OC_RETURN_IF_ERROR(range("n_heads", m.n_heads, 1, 256));
  OC_RETURN_IF_ERROR(range("n_kv_heads", m.n_kv_heads, 1, m.n_heads));
  OC_RETURN_IF_ERROR(range("head_dim", m.head_dim, 2, 512));
  OC_RETURN_IF_ERROR(range("ffn_dim", m.ffn_dim, 1, 65536));
  OC_RETURN_IF_ERROR(range("n_experts", m.n_experts, 0, 256));
  if (m.n_experts > 0) OC_RETURN_IF_ERROR(range("n_experts_active", m.n_experts_active, 1, m.n_experts));
  OC_RETURN_IF_ERROR(range("ctx_len", m.ctx_len, 2, 1 << 16));
  OC_RETURN_IF_ERROR(range("rope_base", m.rope_base, 1.0001, 1e9));
  OC_RETURN_IF_ERROR(range("rms_eps", m.rms_eps, 1e-12, 1e-2));
  if (m.n_heads % m.n_kv_heads != 0) return InvalidArgument("train config: n_heads must be a multiple of n_kv_heads");
  if (m.head_dim % 2 != 0) return InvalidArgument("train config: head_dim must be even (RoPE pairs)");
  OC_RETURN_IF_ERROR(range("lr", c.lr, 0, 10));
  OC_RETURN_IF_ERROR(range("min_lr_ratio", c.min_lr_ratio, 0, 1));
  OC_RETURN_IF_ERROR(range("warmup_steps", c.warmup_steps, 0, 1e9));
  OC_RETURN_IF_ERROR(range("total_steps", c.total_steps, 1, 1e9));
  OC_RETURN_IF_ERROR(range("beta1", c.beta1, 0, 0.99999));
  OC_RETURN_IF_ERROR(range("beta2", c.beta2, 0, 0.99999999));
  OC_RETURN_IF_ERROR(range("adam_eps", c.adam_eps, 1e-30, 1));
  OC_RETURN_IF_ERROR(range("weight_decay", c.weight_decay, 0, 10));
  OC_RETURN_IF_ERROR(range("grad_clip", c.grad_clip, 0, 1e9));
  OC_RETURN_IF_ERROR(range("aux_loss_coef", c.aux_loss_coef, 0, 100));
  OC_RETURN_IF_ERROR(range("z_loss_coef", c.z_loss_coef, 0, 100));
  OC_RETURN_IF_ERROR(range("init_std", c.init_std, 1e-6, 10));
  OC_RETURN_IF_ERROR(range("batch_seqs", c.batch_seqs, 1, 1 << 20));
  OC_RETURN_IF_ERROR(range("micro_seqs", c.micro_seqs, 1, c.batch_seqs));
  if (c.batch_seqs % c.micro_seqs != 0)
    return InvalidArgument("train config: batch_seqs must be a multiple of micro_seqs");
  OC_RETURN_IF_ERROR(range("checkpoint_every", c.checkpoint_every, 1, 1e9));
  OC_RETURN_IF_ERROR(range("eval_every", c.eval_every, 1, 1e9));
  OC_RETURN_IF_ERROR(range("eval_tokens", c.eval_tokens, 0, 1 << 30));
  return Status::Ok();
}

}  // namespace omnicoder
