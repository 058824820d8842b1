// Scale fits of the K quantizers (quant_k.cc): each tries a sweep of candidate grids and
// keeps the one with the least importance-weighted squared error. The candidates are
// evaluated side by side (one array lane each, loops the compiler vectorizes), every lane
// with the operations of a one-candidate-at-a-time loop in the same order, so the result
// is bitwise that of the plain sweep (tests/unit/tensor/quant_fit_test.cc keeps it).
#pragma once

namespace omnicoder {

// Fits x ~= scale * L - min with L in [0, nmax] over the 21 grids
// (nmax + 0.1 * step) / (max(x) - min(x, 0)), step -10..10, refitting scale and offset by
// weighted least squares for each. Returns scale; *min_out >= 0.
float FitAsymmetric(const float* x, const float* w, int n, int nmax, float* min_out);

// Fits x ~= scale * L with L in [-nmax, nmax - 1] over the 19 grids
// -(nmax + 0.1 * step) / x[argmax |x|], step -9..9; returns scale (may be negative).
float FitSymmetric(const float* x, const float* w, int n, int nmax);

}  // namespace omnicoder
