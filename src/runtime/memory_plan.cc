// Memory budgets: parsing, cgroup limits, and fitting the expert pool.
#include "runtime/memory_plan.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace omnicoder {

namespace {

uint64_t ReadNumberFile(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return 0;
  try {
    return std::stoull(s);
  } catch (...) {
    return 0;
  }
}

// The memory limit of the cgroup this process is in (v1 or v2), 0 if none.
uint64_t CgroupLimit() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  uint64_t limit = 0;
  while (std::getline(f, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    uint64_t v = 0;
    if (controllers.empty()) {
      v = ReadNumberFile("/sys/fs/cgroup" + path + "/memory.max");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      v = ReadNumberFile("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
      if (v >= (1ull << 60)) v = 0;  // v1 "unlimited"
    }
    if (v > 0) limit = limit ? std::min(limit, v) : v;
  }
  return limit;
}

uint64_t MeminfoField(const char* key) {
  std::ifstream f("/proc/meminfo");
  std::string name;
  uint64_t kb = 0;
  std::string unit;
  while (f >> name >> kb) {
    std::getline(f, unit);
    if (name == key) return kb * 1024;
  }
  return 0;
}

}  // namespace

int DefaultCtxLenForMemory(int trained_ctx_len, uint64_t kv_bytes_per_position, int n_seq, uint64_t avail_bytes) {
  const int floor = DefaultCtxLen(trained_ctx_len);
  if (kv_bytes_per_position == 0 || n_seq < 1) return trained_ctx_len;
  const uint64_t fits = avail_bytes / 2 / kv_bytes_per_position / static_cast<uint64_t>(n_seq);
  const uint64_t blocks = fits / 64 * 64;  // whole KV blocks (kKvBlock positions)
  if (blocks <= static_cast<uint64_t>(floor)) return floor;
  return blocks >= static_cast<uint64_t>(trained_ctx_len) ? trained_ctx_len : static_cast<int>(blocks);
}

uint64_t AvailableMemoryBytes() {
  uint64_t avail = MeminfoField("MemAvailable:");
  const uint64_t cg = CgroupLimit(), rss = CurrentRssBytes();
  if (cg > 0) avail = std::min(avail, cg > rss ? cg - rss : 0);
  return avail;
}

uint64_t CurrentRssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

Result<uint64_t> ParseMemBudgetText(const std::string& text) {
  if (text == "auto") {
    const uint64_t cg = CgroupLimit();
    if (cg > 0) return cg;
    const uint64_t avail = MeminfoField("MemAvailable:");
    if (avail == 0) return Unsupported("--mem-budget auto: no cgroup limit and no MemAvailable in /proc/meminfo");
    return avail / 10 * 9;
  }
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return InvalidArgument("memory budget '" + text + "' is not a size (e.g. 1G, 1.5G, 800M, auto)");
  }
  std::string unit = text.substr(pos);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit == "K" || unit == "KB" || unit == "KIB")
    mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TIB")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    return InvalidArgument("memory budget '" + text + "' has an unknown unit");
  if (!(value > 0) || value * mult > 1e18) return InvalidArgument("memory budget '" + text + "' is out of range");
  return static_cast<uint64_t>(value * mult);
}

Result<MemoryPlan> PlanMemory(const MemoryPlanInput& in) {
  MemoryPlan p;
  p.in = in;
  p.reserve = kMemoryReserveBytes;
  const uint64_t fixed = in.baseline + in.non_expert + in.session + p.reserve;
  const uint64_t min_needed = fixed + in.slot_bytes * static_cast<uint64_t>(in.experts_per_token);
  if (in.budget < min_needed) {
    return InvalidArgument(StrFormat(
        "memory budget %s is below one token's working set: %s (process %s + resident weights %s + session %s + "
        "reserve %s + %d expert slots of %s); use --mem-budget %s or more",
        HumanBytes(in.budget).c_str(), HumanBytes(min_needed).c_str(), HumanBytes(in.baseline).c_str(),
        HumanBytes(in.non_expert).c_str(), HumanBytes(in.session).c_str(), HumanBytes(p.reserve).c_str(),
        in.experts_per_token, HumanBytes(in.slot_bytes).c_str(),
        HumanBytes((min_needed + (1ull << 20) - 1) / (1ull << 20) * (1ull << 20)).c_str()));
  }
  if (in.slot_bytes == 0 || in.total_experts == 0) {
    p.all_resident = true;
    return p;
  }
  const uint64_t fit = (in.budget - fixed) / in.slot_bytes;
  p.n_slots = static_cast<int>(std::min<uint64_t>(fit, static_cast<uint64_t>(in.total_experts)));
  p.all_resident = p.n_slots == in.total_experts;
  p.prefetch = in.prefetch && !p.all_resident && PrefetchFits(p.n_slots, in.experts_per_token);
  return p;
}

std::string MemoryPlan::Describe() const {
  std::ostringstream out;
  out << "memory plan (budget " << HumanBytes(in.budget) << "):\n";
  out << "  process baseline   " << HumanBytes(in.baseline) << "\n";
  out << "  resident weights   " << HumanBytes(in.non_expert) << "\n";
  out << "  session (KV+work)  " << HumanBytes(in.session) << "\n";
  out << "  reserve            " << HumanBytes(reserve) << "\n";
  if (in.total_experts > 0) {
    out << "  expert pool        " << n_slots << " slots x " << HumanBytes(in.slot_bytes) << " = "
        << HumanBytes(in.slot_bytes * static_cast<uint64_t>(n_slots)) << " ("
        << StrFormat("%.0f%%", 100.0 * n_slots / in.total_experts) << " of " << in.total_experts << " experts resident"
        << (prefetch ? ", router prefetch on" : "") << ")\n";
  }
  return out.str();
}

}  // namespace omnicoder
