// Continuous batching: N slots (one KV sequence each) decode together in one forward step;
// queued requests join between steps, a cancelled one leaves at the next step, and a new
// request takes the free slot whose cached tokens share the longest prefix with its prompt
// (that part of the prompt is not computed again). One thread owns the Session.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apps/server/channel.h"
#include "omnicoder/omnicoder.h"

namespace omnicoder::server {

struct GenerationParams {
  int max_tokens = 0;  // 0: until the context is full
  SamplerOptions sampling;
  float presence_penalty = 0, frequency_penalty = 0;  // OpenAI's, in [-2, 2]
  std::vector<std::string> stop;
  int top_logprobs = -1;  // -1: no logprobs; else the chosen token's plus this many alternatives
  bool ignore_eos = false;
};

struct Job {
  std::vector<int32_t> prompt;  // at least one token, shorter than the context
  GenerationParams params;
  std::shared_ptr<RequestChannel> channel;
};

struct SchedulerOptions {
  int n_slots = 4;
  int ctx_len = 4096;     // per slot
  int step_tokens = 256;  // tokens per forward step (decode rows first, then prompt chunks)
  int max_queue = 64;     // waiting requests; more are refused
  KvType kv_type = KvType::kF16;
};

struct SchedulerStats {
  int busy_slots = 0, queued = 0, n_slots = 0;
  uint64_t requests_finished = 0, requests_cancelled = 0, requests_failed = 0;
  uint64_t prompt_tokens = 0, prompt_tokens_cached = 0, generated_tokens = 0, steps = 0;
  double step_seconds = 0;  // time inside forward steps
};

enum class SubmitResult { kQueued, kQueueFull, kStopped };

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(Engine& engine, Model& model, const SchedulerOptions& options);
  ~Scheduler();  // stops the loop; requests still running get an error event
  SubmitResult Submit(Job job);
  SchedulerStats stats() const;
  int ctx_len() const { return options_.ctx_len; }
  void Stop();

  struct Slot;

 private:
  Scheduler(Model& model, std::unique_ptr<Session> session, const SchedulerOptions& options);
  void Loop();
  void Admit(std::unique_lock<std::mutex>& lock);
  void BuildBatch();
  bool Step();
  void OnLogits(Slot& slot, const float* logits);
  void Finish(Slot& slot, FinishReason reason, const std::string& error);

  Model& model_;
  std::unique_ptr<Session> session_;
  SchedulerOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<BatchToken> batch_;
  std::vector<Slot*> out_slots_;  // the slot of each logits row of the step
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stop_ = false;
  int in_flight_ = 0;     // admitted and not finished (guarded by mu_)
  SchedulerStats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace omnicoder::server
