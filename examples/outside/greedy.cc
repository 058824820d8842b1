// Greedy continuation of a prompt through the installed C++ API: greedy_cpp MODEL PROMPT N
#include <cstdio>
#include <cstdlib>
#include <string>

#include <omnicoder/omnicoder.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL PROMPT N\n", argv[0]);
    return 2;
  }
  using namespace omnicoder;
  auto fail = [](const char* what, const Status& s) {
    std::fprintf(stderr, "greedy_cpp: %s: %s\n", what, s.ToString().c_str());
    return 1;
  };
  auto engine = Engine::Create(EngineOptions{});
  if (!engine.ok()) return fail("engine", engine.status());
  auto model = Model::Load(*engine.value(), argv[1], LoadOptions{});
  if (!model.ok()) return fail("load", model.status());
  auto session = Session::Create(*engine.value(), *model.value(), SessionOptions{});
  if (!session.ok()) return fail("session", session.status());
  SamplerOptions so;
  so.temperature = 0;
  Sampler sampler(so, session.value()->vocab_size());
  Status s = session.value()->Eval(model.value()->Tokenize(argv[2], /*add_special=*/true));
  if (!s.ok()) return fail("eval", s);
  for (int i = 0, n = std::atoi(argv[3]); i < n; ++i) {
    const int32_t t = sampler.Sample(session.value()->Logits());
    if (model.value()->IsEndOfGeneration(t)) break;
    const std::string piece = model.value()->TokenToPiece(t);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    sampler.Accept(t);
    s = session.value()->Eval({t});
    if (!s.ok()) return fail("eval", s);
  }
  return 0;
}
