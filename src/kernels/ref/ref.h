// Scalar reference kernels: the oracle for every SIMD kernel, and the fallback ISA.
#pragma once

#include <cstring>

#include "kernels/kernel_table.h"

namespace omnicoder::ref {

void QuantizeActF32(const float* x, void* dst, int n);
void QuantizeActF16(const float* x, void* dst, int n);
void QuantizeActBF16(const float* x, void* dst, int n);
void QuantizeActQ8(const float* x, void* dst, int n);
void QuantizeActQ8K(const float* x, void* dst, int n);

// One weight row . one act row, for weight type `type`.
float DotRow(DType type, const uint8_t* w_row, const uint8_t* x_row, int n);
// Interleaved x8 weights (repack.h), every type CanInterleave8 accepts.
void MatMulX8(DType type, const MatMulArgs& a, int row_begin, int row_end);

void RmsNorm(const float* x, const float* w, float eps, float* y, int n);
void SiluMul(float* gate, const float* up, int n);
void SwigluOai(float* gate, const float* up, int n);
void Axpy(float* y, const float* x, float s, int n);
void AttnScores(const AttnArgs& a, float* scores);
void AttnScoresKt(const AttnArgs& a, float* scores);
void AttnValues(const AttnArgs& a, const float* probs, float* out);
void Softmax(float* x, int n);
void F32ToF16Row(const float* x, uint16_t* y, int n);
void SgemmRef(const SgemmArgs& g, int m0, int m1, int n0, int n1, float* pack);

}  // namespace omnicoder::ref
