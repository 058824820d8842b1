// RunTraining: the loop over optimizer steps.
#include "train/trainer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "threading/thread_pool.h"
#include "train/checkpoint.h"
#include "train/corpus.h"
#include "train/data_stream.h"
#include "train/model_train.h"
#include "train/optimizer.h"
#include "train/params.h"

namespace omnicoder {

std::string TrainConfigSha256(const TrainConfig& c) {
  std::istringstream in(TrainConfigText(c));
  std::string line, kept;
  while (std::getline(in, line)) {
    const std::string key = line.substr(0, line.find(' '));
    if (key == "data_dir" || key == "tokenizer" || key == "out_dir" || key == "checkpoint_every" ||
        key == "eval_every" || key == "eval_tokens" || key == "name") {
      continue;
    }
    kept += line + "\n";
  }
  return Sha256Hex(kept);
}

namespace {

using Clock = std::chrono::steady_clock;

std::string LayoutSha256(const std::vector<ParamTensor>& layout) {
  std::string s;
  for (const ParamTensor& t : layout) {
    s += t.name + StrFormat(" %zu %zu %d\n", t.offset, t.size, t.decay ? 1 : 0);
  }
  return Sha256Hex(s);
}

struct RunState {
  ~RunState() {
    if (lock_fd >= 0) close(lock_fd);  // releases the folder lock
  }
  int lock_fd = -1;
  TrainConfig c;
  std::vector<ParamTensor> layout;
  size_t n = 0;
  AlignedBuffer params, grads, m, v;
  CheckpointHeader header;
  std::string log;  // train-log.tsv contents
  std::unique_ptr<TrainModel> model;
  ShardSet shards;
  std::unique_ptr<DataStream> data;
  std::vector<int32_t> val_code, val_english;
  double val_code_tpb = 0, val_english_tpb = 0;  // tokens per byte of each validation set
};

std::string CheckpointPath(const TrainConfig& c) {
  return c.out_dir + "/checkpoint.ckpt";
}
std::string LogPath(const TrainConfig& c) {
  return c.out_dir + "/train-log.tsv";
}
constexpr const char* kLogHeader =
    "step\tlr\tloss\taux_balance\taux_z\tgrad_norm\ttokens_per_s\telapsed_s\tval_code_loss\tval_english_loss\t"
    "max_expert_load\trouter_entropy\n";

// Keeps the log lines of steps <= step (a resumed run rewrites what came after).
std::string TrimLog(const std::string& log, int step) {
  std::istringstream in(log);
  std::string line, out = kLogHeader;
  while (std::getline(in, line)) {
    if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;
    if (std::atoi(line.c_str()) <= step) out += line + "\n";
  }
  return out;
}

// One trainer per run folder: an exclusive lock, then the temp files a killed trainer
// left behind (kill -9 gives no chance to clean up) can be removed safely.
Status LockRunFolder(const std::string& dir, int* lock_fd) {
  mkdir(dir.c_str(), 0755);
  const std::string lock = dir + "/.lock";
  *lock_fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*lock_fd < 0) return IoError("cannot create '" + lock + "': " + std::strerror(errno));
  if (flock(*lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return InvalidArgument("another trainer is running in '" + dir + "' (it holds " + lock + ")");
  }
  DIR* d = opendir(dir.c_str());
  if (!d) return IoError("cannot list '" + dir + "': " + std::strerror(errno));
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(".checkpoint.ckpt.tmp.", 0) == 0 || name.rfind(".train-log.tsv.tmp.", 0) == 0) {
      unlink((dir + "/" + name).c_str());
    }
  }
  closedir(d);
  return Status::Ok();
}

Status Prepare(const TrainConfig& c, TrainContext& ctx, RunState* st, bool* resumed) {
  st->c = c;
  OC_ASSIGN_OR_RETURN(std::string tok_bytes, ReadSmallFile(c.tokenizer, 1ull << 30));
  st->header.tokenizer_sha256 = Sha256Hex(tok_bytes);
  OC_ASSIGN_OR_RETURN(st->shards, LoadShards(c.data_dir, c.model.vocab_size));
  if (st->shards.tokenizer_sha256 != st->header.tokenizer_sha256) {
    return InvalidArgument("the token shards in '" + c.data_dir + "' were made with another tokenizer than '" +
                           c.tokenizer + "'");
  }
  st->header.data_sha256 = st->shards.manifest_sha256;
  st->header.config_sha256 = TrainConfigSha256(c);
  st->layout = ParamLayout(c.model, c.init_std);
  st->header.layout_sha256 = LayoutSha256(st->layout);
  st->n = ParamCount(st->layout);
  for (AlignedBuffer* b : {&st->params, &st->grads, &st->m, &st->v}) {
    if (!b->Allocate(st->n * sizeof(float))) return OutOfMemory("cannot allocate the model's parameters");
  }
  st->data = std::make_unique<DataStream>(st->shards, c.SeqLen(), c.seed);
  if (st->data->n_chunks() < 1) return InvalidArgument("fewer training tokens than one sequence");
  OC_ASSIGN_OR_RETURN(st->model, TrainModel::Create(c.model, c.micro_seqs, ctx.pool->size()));
  uint64_t bytes = 0;
  st->shards.Gather("val-code", &st->val_code, &bytes);
  st->val_code_tpb = bytes ? static_cast<double>(st->val_code.size()) / bytes : 0;
  st->shards.Gather("val-english", &st->val_english, &bytes);
  st->val_english_tpb = bytes ? static_cast<double>(st->val_english.size()) / bytes : 0;
  OC_RETURN_IF_ERROR(LockRunFolder(c.out_dir, &st->lock_fd));
  struct stat sb;
  *resumed = stat(CheckpointPath(c).c_str(), &sb) == 0;
  if (!*resumed) {
    InitParams(st->layout, c.seed, st->params.as<float>());
    st->log = kLogHeader;
    return Status::Ok();
  }
  CheckpointBuffers b{st->params.as<float>(), st->m.as<float>(), st->v.as<float>(), st->n};
  OC_ASSIGN_OR_RETURN(CheckpointHeader h, LoadCheckpoint(CheckpointPath(c), b));
  if (h.config_sha256 != st->header.config_sha256 || h.tokenizer_sha256 != st->header.tokenizer_sha256 ||
      h.data_sha256 != st->header.data_sha256 || h.layout_sha256 != st->header.layout_sha256) {
    return InvalidArgument("'" + CheckpointPath(c) +
                           "' belongs to a different run (config, tokenizer or data "
                           "changed); use another out_dir or remove it");
  }
  st->header = h;
  Result<std::string> log = ReadSmallFile(LogPath(c), 1ull << 30);
  st->log = TrimLog(log.ok() ? log.value() : "", h.step);
  return Status::Ok();
}

// Mean CE (nats/token) over up to max_tokens of a validation set, in sequences.
double EvalLoss(TrainContext& ctx, RunState& st, const std::vector<int32_t>& tokens, int max_tokens) {
  const int S = st.c.SeqLen(), B = st.c.micro_seqs;
  std::vector<int32_t> batch(static_cast<size_t>(B) * (S + 1));
  StepStats stats;
  int64_t pos = 0;
  while (pos + S + 1 <= static_cast<int64_t>(tokens.size()) && stats.n_predicted < max_tokens) {
    int n = 0;
    for (; n < B && pos + S + 1 <= static_cast<int64_t>(tokens.size()); ++n, pos += S) {
      std::memcpy(batch.data() + static_cast<size_t>(n) * (S + 1), tokens.data() + pos, sizeof(int32_t) * (S + 1));
    }
    ModelParams p = BindParams(st.c.model, st.layout, st.params.as<float>());
    if (!st.model->Forward(ctx, p, batch.data(), n, &stats).ok()) break;
  }
  return stats.n_predicted ? stats.ce_sum / stats.n_predicted : 0.0;
}

Status Save(RunState& st) {
  OC_RETURN_IF_ERROR(WriteFileAtomically(LogPath(st.c), st.log));
  CheckpointBuffers b{st.params.as<float>(), st.m.as<float>(), st.v.as<float>(), st.n};
  return SaveCheckpoint(CheckpointPath(st.c), st.header, b);
}

// One optimizer step: micro-batches of forward/backward, clipping, AdamW.
Status Step(TrainContext& ctx, RunState& st, StepStats* stats, double* grad_norm) {
  const TrainConfig& c = st.c;
  const int S = c.SeqLen(), n_micro = c.batch_seqs / c.micro_seqs;
  std::memset(st.grads.data(), 0, st.n * sizeof(float));
  ModelParams p = BindParams(c.model, st.layout, st.params.as<float>());
  ModelParams g = BindParams(c.model, st.layout, st.grads.as<float>());
  std::vector<int32_t> batch(static_cast<size_t>(c.micro_seqs) * (S + 1));
  AuxCoef coef;
  coef.balance = c.aux_loss_coef;
  coef.z = c.z_loss_coef;
  coef.grad_scale = 1.0f / n_micro;
  const float ce_scale = 1.0f / (static_cast<float>(c.batch_seqs) * S);
  for (int mb = 0; mb < n_micro; ++mb) {
    for (int i = 0; i < c.micro_seqs; ++i) {
      st.data->Sequence(st.header.data_position + mb * c.micro_seqs + i,
                        batch.data() + static_cast<size_t>(i) * (S + 1));
    }
    OC_RETURN_IF_ERROR(st.model->ForwardBackward(ctx, p, g, {batch.data(), c.micro_seqs}, {ce_scale, coef}, stats));
  }
  *grad_norm = GradNorm(st.layout, st.grads.as<float>());
  if (!std::isfinite(*grad_norm))
    return Unsupported(StrFormat("non-finite gradient at step %d; lower the learning rate", st.header.step));
  AdamWStep(c, st.layout, st.header.step, *grad_norm, *ctx.pool,
            {st.params.as<float>(), st.grads.as<float>(), st.m.as<float>(), st.v.as<float>()});
  st.header.data_position += c.batch_seqs;
  st.header.step += 1;
  return Status::Ok();
}

}  // namespace

Result<TrainResult> RunTraining(const TrainConfig& c, const TrainRunOptions& o, TrainContext& ctx) {
  OC_RETURN_IF_ERROR(ValidateTrainConfig(c));
  RunState st;
  TrainResult r;
  OC_RETURN_IF_ERROR(Prepare(c, ctx, &st, &r.resumed));
  const int last = o.max_steps > 0 ? std::min(o.max_steps, c.total_steps) : c.total_steps;
  const auto start = Clock::now();
  const double elapsed0 = st.header.elapsed_seconds;
  const int n_micro = c.batch_seqs / c.micro_seqs;
  const double n_aux = std::max(1, c.model.n_experts > 0 ? c.model.n_layers : 1) * n_micro;
  while (st.header.step < last) {
    const auto t0 = Clock::now();
    StepStats stats;
    double norm = 0;
    const int step = st.header.step;
    OC_RETURN_IF_ERROR(Step(ctx, st, &stats, &norm));
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    st.header.elapsed_seconds = elapsed0 + std::chrono::duration<double>(Clock::now() - start).count();
    r.last_loss = stats.ce_sum / std::max<int64_t>(1, stats.n_predicted);
    const double tps = static_cast<double>(stats.n_predicted) / dt;
    std::string val_code, val_en;
    if (st.header.step % c.eval_every == 0 || st.header.step == c.total_steps) {
      val_code = StrFormat("%.4f", EvalLoss(ctx, st, st.val_code, c.eval_tokens));
      val_en = StrFormat("%.4f", EvalLoss(ctx, st, st.val_english, c.eval_tokens));
    }
    st.log += StrFormat("%d\t%.6g\t%.5f\t%.5f\t%.5f\t%.4f\t%.0f\t%.1f\t%s\t%s\t%.3f\t%.4f\n", st.header.step,
                        LearningRate(c, step), r.last_loss, stats.aux.balance / n_micro, stats.aux.z / n_micro, norm,
                        tps, st.header.elapsed_seconds, val_code.c_str(), val_en.c_str(), stats.aux.max_load,
                        stats.aux.router_entropy / n_aux);
    if (o.progress) {
      const double eta = (c.total_steps - st.header.step) * dt;
      o.progress(StrFormat("step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %.1f h%s%s", st.header.step,
                           c.total_steps, r.last_loss, LearningRate(c, step), norm, tps, eta / 3600.0,
                           val_code.empty() ? "" : ("  val code " + val_code).c_str(),
                           val_en.empty() ? "" : ("  val docs " + val_en).c_str()));
    }
    const double sitting = std::chrono::duration<double>(Clock::now() - start).count();
    const bool out_of_time = o.time_budget_seconds > 0 && sitting + dt > o.time_budget_seconds;
    const bool stop = (o.stop && o.stop->load()) || out_of_time;
    if (st.header.step % c.checkpoint_every == 0 || st.header.step == last || stop) OC_RETURN_IF_ERROR(Save(st));
    if (stop) break;
  }
  r.step = st.header.step;
  r.finished = st.header.step >= c.total_steps;
  r.elapsed_seconds = st.header.elapsed_seconds;
  return r;
}

}  // namespace omnicoder
