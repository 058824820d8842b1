// Training corpus: files gathered from local folders (Debian packages), deduplicated by
// content hash, size-limited, capped per source, split into train and held-out files.
//
// Design goals: the same folders give the same manifest on every machine (sorted walk,
// hash-decided splits and caps), so a manifest hash identifies the data a model saw.
// Non-goals: fetching data, language detection, near-duplicate detection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace omnicoder {

enum class TextKind { kCode, kEnglish };

struct CorpusSource {
  std::string name;  // "numpy"
  TextKind kind = TextKind::kCode;
  std::string root;                  // folder walked recursively (symlinks are not followed)
  std::string suffix;                // ".py", ".rst.txt"
  double cap = 0;                    // > 0: at most this fraction of the corpus bytes
  int validation_per_mille = -1;     // >= 0: this source's held-out share; < 0: the corpus default
  std::vector<std::string> exclude;  // sub-folders of root to skip
  std::string licence;               // for the model card
  std::string package;               // Debian package that provides it
};

// Reads a source list: one source per line, "name kind root suffix [cap=0.25]
// [exclude=a,b] [licence=X] [package=P]"; '#' starts a comment.
Result<std::vector<CorpusSource>> ParseCorpusSources(const std::string& text);

struct CorpusFile {
  std::string sha256;
  std::string source;
  TextKind kind = TextKind::kCode;
  bool validation = false;
  uint64_t bytes = 0;
  std::string path;
};

struct CorpusOptions {
  uint64_t max_file_bytes = 256 * 1024;
  int validation_per_mille = 10;  // ~1% of files, decided by content hash
};

struct CorpusStats {
  uint64_t files_seen = 0, too_large = 0, not_utf8 = 0, duplicates = 0, capped = 0;
};

// Walks the sources and returns the kept files in manifest order.
Result<std::vector<CorpusFile>> BuildCorpus(const std::vector<CorpusSource>& sources, const CorpusOptions& options,
                                            CorpusStats* stats);

// Manifest text (header comments with per-source totals, then one TSV line per file).
std::string CorpusManifest(const std::vector<CorpusSource>& sources, const std::vector<CorpusFile>& files,
                           const CorpusStats& stats);
Result<std::vector<CorpusFile>> ParseCorpusManifest(const std::string& text);

// Whole file contents, refusing non-regular files and files over max_bytes.
Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_bytes);

}  // namespace omnicoder
