// Corpus building: walk, hash, dedupe, cap, split, manifest.
#include "train/corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace omnicoder {

namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (int k = 1; k < n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

uint64_t HashPrefix(const std::string& hex) {
  return std::stoull(hex.substr(0, 15), nullptr, 16);
}

Status ParseSourceLine(const std::string& line, int line_no, CorpusSource* s) {
  std::istringstream in(line);
  std::string kind;
  if (!(in >> s->name >> kind >> s->root >> s->suffix)) {
    return InvalidArgument(StrFormat("corpus sources line %d: want 'name kind root suffix [key=value...]'", line_no));
  }
  if (kind == "code") {
    s->kind = TextKind::kCode;
  } else if (kind == "english") {
    s->kind = TextKind::kEnglish;
  } else {
    return InvalidArgument(StrFormat("corpus sources line %d: kind must be code or english", line_no));
  }
  std::string kv;
  while (in >> kv) {
    const size_t eq = kv.find('=');
    const std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "cap") {
      char* end = nullptr;
      s->cap = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || !(s->cap > 0 && s->cap <= 1)) {
        return InvalidArgument(StrFormat("corpus sources line %d: cap must be in (0, 1]", line_no));
      }
    } else if (k == "validation") {
      char* end = nullptr;
      const double f = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || !(f >= 0 && f <= 1)) {
        return InvalidArgument(StrFormat("corpus sources line %d: validation must be in [0, 1]", line_no));
      }
      s->validation_per_mille = static_cast<int>(std::lround(f * 1000));
    } else if (k == "exclude") {
      std::stringstream ss(v);
      std::string part;
      while (std::getline(ss, part, ',')) s->exclude.push_back(part);
    } else if (k == "licence") {
      s->licence = v;
    } else if (k == "package") {
      s->package = v;
    } else {
      return InvalidArgument(StrFormat("corpus sources line %d: unknown key '%s'", line_no, k.c_str()));
    }
  }
  return Status::Ok();
}

struct Candidate {
  CorpusFile file;
  double cap;
};

// Lists regular files under a source root in sorted order.
Result<std::vector<std::string>> ListFiles(const CorpusSource& s) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(s.root, ec)) {
    return NotFound("corpus source '" + s.name + "': folder '" + s.root + "' is missing" +
                    (s.package.empty() ? "" : " (install the Debian package " + s.package + ")"));
  }
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(s.root, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path rel = fs::relative(it->path(), s.root, ec);
    const std::string first = rel.begin() == rel.end() ? "" : rel.begin()->string();
    if (it->is_directory() && std::find(s.exclude.begin(), s.exclude.end(), first) != s.exclude.end()) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string p = it->path().string();
    if (it->is_symlink() || !it->is_regular_file()) continue;
    if (p.size() >= s.suffix.size() && p.compare(p.size() - s.suffix.size(), s.suffix.size(), s.suffix) == 0) {
      out.push_back(p);
    }
  }
  if (ec) return IoError("walking '" + s.root + "': " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Drops files of capped sources (highest hash first) until each is within its cap.
void ApplyCaps(std::vector<Candidate>* files, CorpusStats* stats) {
  for (int round = 0; round < 20; ++round) {
    uint64_t total = 0;
    std::map<std::string, uint64_t> per_source;
    for (const Candidate& c : *files) total += c.file.bytes, per_source[c.file.source] += c.file.bytes;
    bool changed = false;
    for (const auto& [name, bytes] : per_source) {
      double cap = 0;
      for (const Candidate& c : *files) {
        if (c.file.source == name) cap = c.cap;
      }
      if (cap <= 0 || bytes <= cap * total) continue;
      // Solve for the bytes to keep so that kept <= cap * (total - dropped).
      const double keep = cap * (total - bytes) / (1 - cap);
      std::vector<size_t> idx;
      for (size_t i = 0; i < files->size(); ++i) {
        if ((*files)[i].file.source == name) idx.push_back(i);
      }
      std::sort(idx.begin(), idx.end(),
                [&](size_t a, size_t b) { return (*files)[a].file.sha256 < (*files)[b].file.sha256; });
      uint64_t kept = 0;
      std::set<size_t> drop;
      for (size_t i : idx) {
        if (kept + (*files)[i].file.bytes <= keep) {
          kept += (*files)[i].file.bytes;
        } else {
          drop.insert(i);
        }
      }
      std::vector<Candidate> next;
      for (size_t i = 0; i < files->size(); ++i) {
        if (!drop.count(i)) next.push_back(std::move((*files)[i]));
      }
      stats->capped += drop.size();
      *files = std::move(next);
      changed = true;
      break;
    }
    if (!changed) return;
  }
}

}  // namespace

Result<std::vector<CorpusSource>> ParseCorpusSources(const std::string& text) {
  std::vector<CorpusSource> out;
  for (const auto& [n, line] : ContentLines(text)) {
    CorpusSource s;
    OC_RETURN_IF_ERROR(ParseSourceLine(line, n, &s));
    out.push_back(std::move(s));
  }
  if (out.empty()) return InvalidArgument("the corpus source list is empty");
  return out;
}

Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes) {
  return ReadRegularFile(path, max_bytes, /*protect=*/false);
}

Result<std::vector<CorpusFile>> BuildCorpus(const std::vector<CorpusSource>& sources, const CorpusOptions& o,
                                            CorpusStats* stats) {
  std::vector<Candidate> files;
  std::set<std::string> seen;
  for (const CorpusSource& src : sources) {
    OC_ASSIGN_OR_RETURN(std::vector<std::string> paths, ListFiles(src));
    for (const std::string& p : paths) {
      ++stats->files_seen;
      Result<std::string> text = ReadSmallFile(p, o.max_file_bytes);
      if (!text.ok()) {
        ++stats->too_large;
        continue;
      }
      if (text->empty()) continue;
      if (!ValidUtf8(text.value())) {
        ++stats->not_utf8;
        continue;
      }
      Candidate c;
      c.file.sha256 = Sha256Hex(text.value());
      if (!seen.insert(c.file.sha256).second) {
        ++stats->duplicates;
        continue;
      }
      c.file.source = src.name;
      c.file.kind = src.kind;
      c.file.bytes = text->size();
      c.file.path = p;
      const int per_mille = src.validation_per_mille >= 0 ? src.validation_per_mille : o.validation_per_mille;
      c.file.validation = HashPrefix(c.file.sha256) % 1000 < static_cast<uint64_t>(per_mille);
      c.cap = src.cap;
      files.push_back(std::move(c));
    }
  }
  ApplyCaps(&files, stats);
  std::vector<CorpusFile> out;
  out.reserve(files.size());
  for (Candidate& c : files) out.push_back(std::move(c.file));
  return out;
}

std::string CorpusManifest(const std::vector<CorpusSource>& sources, const std::vector<CorpusFile>& files,
                           const CorpusStats& stats) {
  std::string s = "# omnicoder corpus manifest v1: sha256 source kind split bytes path\n";
  uint64_t total = 0;
  for (const CorpusFile& f : files) total += f.bytes;
  for (const CorpusSource& src : sources) {
    uint64_t n = 0, bytes = 0, val = 0;
    for (const CorpusFile& f : files) {
      if (f.source != src.name) continue;
      ++n, bytes += f.bytes, val += f.validation;
    }
    s += StrFormat("# source %s files %llu bytes %llu (%.1f%%) validation_files %llu licence %s package %s\n",
                   src.name.c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(bytes),
                   total ? 100.0 * bytes / total : 0.0, static_cast<unsigned long long>(val),
                   src.licence.empty() ? "-" : src.licence.c_str(), src.package.empty() ? "-" : src.package.c_str());
  }
  s += StrFormat(
      "# total files %zu bytes %llu; seen %llu, too large %llu, not UTF-8 %llu, duplicates %llu, capped %llu\n",
      files.size(), static_cast<unsigned long long>(total), static_cast<unsigned long long>(stats.files_seen),
      static_cast<unsigned long long>(stats.too_large), static_cast<unsigned long long>(stats.not_utf8),
      static_cast<unsigned long long>(stats.duplicates), static_cast<unsigned long long>(stats.capped));
  for (const CorpusFile& f : files) {
    s += f.sha256 + "\t" + f.source + "\t" + (f.kind == TextKind::kCode ? "code" : "english") + "\t" +
         (f.validation ? "val" : "train") + "\t" + std::to_string(f.bytes) + "\t" + f.path + "\n";
  }
  return s;
}

Result<std::vector<CorpusFile>> ParseCorpusManifest(const std::string& text) {
  std::vector<CorpusFile> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    if (f.size() != 6 || f[0].size() != 64 || (f[2] != "code" && f[2] != "english") ||
        (f[3] != "train" && f[3] != "val")) {
      return CorruptFile(StrFormat("corpus manifest line %d is not 'sha256 source kind split bytes path'", n));
    }
    CorpusFile c;
    c.sha256 = f[0];
    c.source = f[1];
    c.kind = f[2] == "code" ? TextKind::kCode : TextKind::kEnglish;
    c.validation = f[3] == "val";
    c.bytes = std::strtoull(f[4].c_str(), nullptr, 10);
    c.path = f[5];
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace omnicoder
