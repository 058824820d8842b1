// Reference f32 vector kernels and the ref KernelTable.
#include <algorithm>
#include <cmath>

#include "base/half.h"
#include "kernels/ref/ref.h"

namespace omnicoder::ref {

void RmsNorm(const float* x, const float* w, float eps, float* y, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  for (int i = 0; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void SiluMul(float* gate, const float* up, int n) {
  for (int i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void Axpy(float* y, const float* x, float s, int n) {
  for (int i = 0; i < n; ++i) y[i] += s * x[i];
}

namespace {
float KvAt(const AttnArgs& a, const uint8_t* base, int pos, int d) {
  const uint8_t* row = base + static_cast<size_t>(pos) * a.kv_row_bytes;
  if (a.kv_type == DType::kF16) return F16ToF32(reinterpret_cast<const uint16_t*>(row)[d]);
  return reinterpret_cast<const float*>(row)[d];
}
}  // namespace

void AttnScores(const AttnArgs& a, float* scores) {
  for (int g = 0; g < a.n_q; ++g) {
    const float* q = a.q + g * a.q_stride;
    for (int p = 0; p < a.n_pos; ++p) {
      float s = 0.0f;
      for (int d = 0; d < a.head_dim; ++d) s += q[d] * KvAt(a, a.k, p, d);
      scores[g * a.scores_stride + p] = s * a.scale;
    }
  }
}

void AttnScoresKt(const AttnArgs& a, float* scores) {
  const size_t elem = a.kv_type == DType::kF16 ? 2 : 4;
  for (int g = 0; g < a.n_q; ++g) {
    const float* q = a.q + g * a.q_stride;
    for (int p = 0; p < a.n_pos; ++p) {
      const uint8_t* k = a.k + static_cast<size_t>(p) * elem;
      float s = 0.0f;
      for (int d = 0; d < a.head_dim; ++d, k += a.k_dim_bytes) {
        float kd;
        if (a.kv_type == DType::kF16) {
          uint16_t h;
          std::memcpy(&h, k, 2);
          kd = F16ToF32(h);
        } else {
          std::memcpy(&kd, k, 4);
        }
        s = std::fma(q[d], kd, s);
      }
      scores[g * a.scores_stride + p] = s * a.scale;
    }
  }
}

void AttnValues(const AttnArgs& a, const float* probs, float* out) {
  for (int g = 0; g < a.n_q; ++g) {
    float* o = out + g * a.out_stride;
    const float* pr = probs + g * a.scores_stride;
    if (!a.accumulate) {
      for (int d = 0; d < a.head_dim; ++d) o[d] = 0.0f;
    }
    for (int p = 0; p < a.n_pos; ++p) {
      for (int d = 0; d < a.head_dim; ++d) o[d] += pr[p] * KvAt(a, a.v, p, d);
    }
  }
}

void SwigluOai(float* gate, const float* up, int n) {
  constexpr float kAlpha = 1.702f, kLimit = 7.0f;
  for (int i = 0; i < n; ++i) {
    const float x = std::min(gate[i], kLimit);
    const float y = std::clamp(up[i], -kLimit, kLimit);
    gate[i] = x / (1.0f + std::exp(kAlpha * (-x))) * (y + 1.0f);
  }
}

void Softmax(float* x, int n) {
  float max = -INFINITY;
  for (int i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void F32ToF16Row(const float* x, uint16_t* y, int n) {
  for (int i = 0; i < n; ++i) y[i] = F32ToF16(x[i]);
}

namespace {

template <DType kType>
void MatMulRef(const MatMulArgs& a, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const uint8_t* w = a.w + static_cast<size_t>(r) * a.w_row_bytes;
    for (int t = 0; t < a.n_tokens; ++t) {
      a.y[static_cast<size_t>(t) * a.y_stride + r] =
          DotRow(kType, w, a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
    }
  }
}

template <DType kType>
void MatMulX8Ref(const MatMulArgs& a, int row_begin, int row_end) {
  MatMulX8(kType, a, row_begin, row_end);
}

template <DType kType>
void Set(KernelTable* t, ActFormat act, QuantizeActFn q) {
  MatMulFn x8 = nullptr;
  if constexpr (kType == DType::kQ4_0 || kType == DType::kQ4_1 || kType == DType::kQ5_0 || kType == DType::kQ5_1 ||
                kType == DType::kQ8_0 || kType == DType::kMXFP4 || kType == DType::kQ4_K || kType == DType::kQ5_K ||
                kType == DType::kQ6_K) {
    x8 = &MatMulX8Ref<kType>;
  }
  t->matmul[static_cast<uint32_t>(kType)] = {act, q, &MatMulRef<kType>, x8};
}

}  // namespace

}  // namespace omnicoder::ref

namespace omnicoder {

void FillRefKernels(KernelTable* t) {
  using namespace ref;
  t->isa = "ref";
  Set<DType::kF32>(t, ActFormat::kF32, &QuantizeActF32);
  Set<DType::kF16>(t, ActFormat::kF16, &QuantizeActF16);
  Set<DType::kBF16>(t, ActFormat::kBF16, &QuantizeActBF16);
  Set<DType::kQ4_0>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kQ4_1>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kQ5_0>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kQ5_1>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kQ8_0>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kMXFP4>(t, ActFormat::kQ8, &QuantizeActQ8);
  Set<DType::kQ4_K>(t, ActFormat::kQ8K, &QuantizeActQ8K);
  Set<DType::kQ5_K>(t, ActFormat::kQ8K, &QuantizeActQ8K);
  Set<DType::kQ6_K>(t, ActFormat::kQ8K, &QuantizeActQ8K);
  t->rms_norm = &RmsNorm;
  t->silu_mul = &SiluMul;
  t->swiglu_oai = &SwigluOai;
  t->axpy = &Axpy;
  t->attn_scores = &AttnScores;
  t->attn_scores_kt = &AttnScoresKt;
  t->attn_values = &AttnValues;
  t->softmax = &Softmax;
  t->f32_to_f16 = &F32ToF16Row;
  t->sgemm = &SgemmRef;
}

}  // namespace omnicoder
