// Model loading: config, weights, resident expert source.
#include "runtime/loaded_model.h"

namespace omnicoder {

Result<std::unique_ptr<LoadedModel>> LoadModelFromGguf(std::unique_ptr<GgufFile> file,
                                                       const ModelLoadOptions& options) {
  auto m = std::make_unique<LoadedModel>();
  OC_ASSIGN_OR_RETURN(m->config, ReadModelConfig(*file));
  WeightLoadOptions wo;
  wo.check_all_tensors = options.check_all_tensors;
  OC_ASSIGN_OR_RETURN(m->weights, LoadModelWeights(*file, m->config, wo));
  const MappedFile& mf = file->file();
  const size_t data_size = mf.size() - file->data_offset();
  if (!options.use_mmap && data_size > 0) {
    OC_RETURN_IF_ERROR(m->arena.Allocate(data_size));
    struct Ctx {
      const ModelLoadOptions* o;
      size_t total;
    } ctx{&options, data_size};
    auto progress = [](void* c, size_t done) {
      const Ctx* x = static_cast<const Ctx*>(c);
      if (x->o->progress) x->o->progress(static_cast<float>(done) / static_cast<float>(x->total));
    };
    OC_RETURN_IF_ERROR(ReadFileRange(mf.path(), file->data_offset(), data_size, m->arena.data(), progress, &ctx));
    const uint8_t* begin = mf.data() + file->data_offset();
    RebaseWeights(&m->weights, begin, begin + data_size, m->arena.data());
    if (options.kernels) InterleaveWeights(&m->weights, *options.kernels);
  }
  m->experts = std::make_unique<ResidentExpertSource>(&m->weights.experts);
  m->file = std::move(file);
  return m;
}

}  // namespace omnicoder
