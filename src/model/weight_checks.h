// Value checks on tensor data (NaN/Inf detection) used at load.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tensor/dtype.h"

namespace omnicoder {

// Float types: every value. Block types: every block's scale (and min) fields.
Status ScanTensorForNonFinite(const std::string& name, DType type, const uint8_t* data, uint64_t n_elements);

}  // namespace omnicoder
