#include "apps/server/metrics.h"

#include <unistd.h>

#include <cstdio>

namespace omnicoder::server {

uint64_t ProcessResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long pages_total = 0, pages_resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &pages_total, &pages_resident);
  std::fclose(f);
  if (n != 2) return 0;
  return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, double value) {
  char line[512];
  std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
  *out += line;
}

}  // namespace

std::string MetricsText(const HttpCounters& http, const Model* model, const Scheduler* scheduler) {
  std::string out;
  out += "# HELP omnicoder_http_responses_total HTTP responses by status code.\n";
  out += "# TYPE omnicoder_http_responses_total counter\n";
  for (const auto& [status, n] : http.Snapshot()) {
    out += "omnicoder_http_responses_total{code=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  Metric(&out, "omnicoder_model_loaded", "gauge", "1 once the model serves requests.", model ? 1 : 0);
  Metric(&out, "omnicoder_requests_rejected_total", "counter", "Requests refused with 503 because the queue was full.",
         static_cast<double>(http.rejected.load()));
  if (scheduler) {
    const SchedulerStats s = scheduler->stats();
    Metric(&out, "omnicoder_requests_finished_total", "counter", "Generations that ended with stop or length.",
           static_cast<double>(s.requests_finished));
    Metric(&out, "omnicoder_requests_cancelled_total", "counter", "Generations whose client went away.",
           static_cast<double>(s.requests_cancelled));
    Metric(&out, "omnicoder_requests_failed_total", "counter", "Generations that ended with an error.",
           static_cast<double>(s.requests_failed));
    Metric(&out, "omnicoder_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.",
           static_cast<double>(s.prompt_tokens));
    Metric(&out, "omnicoder_prompt_tokens_cached_total", "counter",
           "Prompt tokens reused from a slot's earlier request (not computed again).",
           static_cast<double>(s.prompt_tokens_cached));
    Metric(&out, "omnicoder_generated_tokens_total", "counter", "Tokens generated.",
           static_cast<double>(s.generated_tokens));
    Metric(&out, "omnicoder_forward_steps_total", "counter", "Forward steps (all slots together).",
           static_cast<double>(s.steps));
    Metric(&out, "omnicoder_forward_seconds_total", "counter", "Time inside forward steps.", s.step_seconds);
    Metric(&out, "omnicoder_generated_tokens_per_second", "gauge",
           "Generated tokens per second of forward-step time since start.",
           s.step_seconds > 0 ? static_cast<double>(s.generated_tokens) / s.step_seconds : 0);
    Metric(&out, "omnicoder_slots", "gauge", "Slots (sequences decoded together).", s.n_slots);
    Metric(&out, "omnicoder_busy_slots", "gauge", "Slots running a request.", s.busy_slots);
    Metric(&out, "omnicoder_queue_length", "gauge", "Requests waiting for a slot.", s.queued);
  }
  PagerStats p;
  if (model && model->pager_stats(&p)) {
    Metric(&out, "omnicoder_pager_acquires_total", "counter", "Expert acquires.", static_cast<double>(p.acquires));
    Metric(&out, "omnicoder_pager_hits_total", "counter", "Experts already resident when routed.",
           static_cast<double>(p.hits + p.prefetch_hits));
    Metric(&out, "omnicoder_pager_misses_total", "counter", "Experts read on demand.", static_cast<double>(p.misses));
    Metric(&out, "omnicoder_pager_bytes_read_total", "counter", "Bytes read by the pager.",
           static_cast<double>(p.bytes_read));
  }
  Metric(&out, "omnicoder_resident_bytes", "gauge", "Resident set size of the process.",
         static_cast<double>(ProcessResidentBytes()));
  return out;
}

}  // namespace omnicoder::server
