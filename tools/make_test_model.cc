// omnicoder-make-model: write a deterministic synthetic (UNTRAINED) GGUF model.
//   omnicoder-make-model PRESET OUT.gguf [--type T] [--output-type T] [--seed N] [-t N]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/test_model.h"

using namespace omnicoder;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s PRESET OUT.gguf [--type T] [--output-type T] [--embd-type T] [--seed N] [-t N]\n"
                 "       [--chat-template FILE]\n"
                 "presets: tiny-<arch> (llama qwen2 qwen2moe qwen3 qwen3moe olmoe mixtral), default,\n"
                 "         tinyllama-1b, mixtral-16l\n",
                 argv[0]);
    return 2;
  }
  Result<TestModelSpec> spec = TestModelPreset(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().ToString().c_str());
    return 2;
  }
  int threads = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    DType t;
    if ((k == "--type" || k == "--output-type" || k == "--embd-type") && ParseDType(v, &t)) {
      if (k == "--type") spec->type = t;
      if (k == "--output-type") spec->output_type = t;
      if (k == "--embd-type") spec->embd_type = t;
    } else if (k == "--seed") {
      spec->seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (k == "--chat-template") {
      FILE* f = std::fopen(v.c_str(), "rb");
      if (!f) {
        std::fprintf(stderr, "cannot read %s\n", v.c_str());
        return 2;
      }
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) spec->chat_template.append(buf, n);
      std::fclose(f);
    } else if (k == "-t") {
      threads = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "bad option %s %s\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  Status s = WriteTestModel(spec.value(), argv[2], threads);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
