// NEON (baseline ARMv8-A) kernels: float matmuls (F32, F16, BF16), norms, SwiGLU, softmax,
// attention and f16 conversion; fills the table and adds the dotprod matmuls when the
// CPU has them.
#include <cmath>

#include "base/cpu_features.h"
#include "kernels/attn_groups.h"
#include "kernels/kernel_table.h"
#include "kernels/neon/neon_common.h"
#include "kernels/ref/ref.h"

namespace omnicoder {

void FillNeonDotprodKernels(KernelTable* t);  // neon/matmul_dotprod.cc

namespace {

// 4 halves widened by the FP16 conversion of baseline ARMv8 (exact, as F16ToF32).
inline float32x4_t LoadF16x4(const uint8_t* p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p))));
}

struct F32L {
  static constexpr size_t kElem = 4;
  static float32x4_t Load(const uint8_t* p) { return vld1q_f32(reinterpret_cast<const float*>(p)); }
  static float One(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
};
struct F16L {
  static constexpr size_t kElem = 2;
  static float32x4_t Load(const uint8_t* p) { return LoadF16x4(p); }
  static float One(const uint8_t* p) { return HalfAt(p); }
};
struct Bf16L {
  static constexpr size_t kElem = 2;
  static float32x4_t Load(const uint8_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p)), 16));
  }
  static float One(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return Bf16ToF32(h);
  }
};

template <class L>
float DotT(const uint8_t* w, const uint8_t* x, int n) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = vfmaq_f32(acc0, L::Load(w + i * L::kElem), L::Load(x + i * L::kElem));
    acc1 = vfmaq_f32(acc1, L::Load(w + (i + 4) * L::kElem), L::Load(x + (i + 4) * L::kElem));
  }
  float s = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) s += L::One(w + i * L::kElem) * L::One(x + i * L::kElem);
  return s;
}

template <class L>
void FloatMatMulNeon(const MatMulArgs& a, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    const uint8_t* w = a.w + static_cast<size_t>(r) * a.w_row_bytes;
    for (int t = 0; t < a.n_tokens; ++t) {
      a.y[static_cast<size_t>(t) * a.y_stride + r] = DotT<L>(w, a.x + static_cast<size_t>(t) * a.x_row_bytes, a.in_dim);
    }
  }
}

void RmsNormNeon(const float* x, const float* w, float eps, float* y, int n) {
  double sum = 0.0;  // sequential double sum, as the reference
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), scale);
    if (w) v = vmulq_f32(v, vld1q_f32(w + i));
    vst1q_f32(y + i, v);
  }
  for (; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

// gate[i] = f(gate[i], up[i]) 4 at a time for every element: the tail goes through the
// same vector code as the rest (padded copy), so an element's result never depends on
// where a range starts or ends.
template <typename F>
void GateUpFours(float* gate, const float* up, int n, F four) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(gate + i, four(vld1q_f32(gate + i), vld1q_f32(up + i)));
  if (i < n) {
    float g[4] = {}, u[4] = {};
    std::memcpy(g, gate + i, sizeof(float) * (n - i));
    std::memcpy(u, up + i, sizeof(float) * (n - i));
    vst1q_f32(g, four(vld1q_f32(g), vld1q_f32(u)));
    std::memcpy(gate + i, g, sizeof(float) * (n - i));
  }
}

void SiluMulNeon(float* gate, const float* up, int n) {
  auto four = [](float32x4_t g, float32x4_t u) {
    return vmulq_f32(vdivq_f32(g, vaddq_f32(vdupq_n_f32(1.0f), Exp4(vnegq_f32(g)))), u);
  };
  GateUpFours(gate, up, n, four);
}

// gpt-oss's clamped SwiGLU (kernel_table.h), 4 at a time through Exp4.
void SwigluOaiNeon(float* gate, const float* up, int n) {
  auto four = [](float32x4_t g, float32x4_t u) {
    const float32x4_t x = vminq_f32(g, vdupq_n_f32(7.0f));
    const float32x4_t y = vminq_f32(vmaxq_f32(u, vdupq_n_f32(-7.0f)), vdupq_n_f32(7.0f));
    const float32x4_t e = Exp4(vmulq_f32(vdupq_n_f32(-1.702f), x));
    return vmulq_f32(vdivq_f32(x, vaddq_f32(vdupq_n_f32(1.0f), e)), vaddq_f32(y, vdupq_n_f32(1.0f)));
  };
  GateUpFours(gate, up, n, four);
}

void AxpyNeon(float* y, const float* x, float s, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), s));
  for (; i < n; ++i) y[i] += s * x[i];
}

void SoftmaxNeon(float* x, int n) {
  float max = -INFINITY;
  for (int i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, Exp4(vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(max))));
  if (i < n) {
    float t[4] = {};
    std::memcpy(t, x + i, sizeof(float) * (n - i));
    vst1q_f32(t, Exp4(vsubq_f32(vld1q_f32(t), vdupq_n_f32(max))));
    std::memcpy(x + i, t, sizeof(float) * (n - i));
  }
  double sum = 0.0;
  for (i = 0; i < n; ++i) sum += x[i];
  const float inv = static_cast<float>(1.0 / sum);
  for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
  for (; i < n; ++i) x[i] *= inv;
}

// Values: NQ queries x NV registers of 4 outputs (head dims d0 .. d0 + 4 NV) kept in
// registers over the call's positions; each output element one fused multiply-add per
// position in position order (the bits of adding into memory one position at a time).
template <class L, int NQ, int NV>
void ValuesRows(const AttnArgs& a, const float* const* probs, float* const* out, int d0) {
  float32x4_t acc[NQ][NV];
  for (int g = 0; g < NQ; ++g) {
    for (int j = 0; j < NV; ++j) acc[g][j] = vld1q_f32(out[g] + d0 + 4 * j);
  }
  const uint8_t* row = a.v + static_cast<size_t>(d0) * L::kElem;
  for (int i = 0; i < a.n_pos; ++i, row += a.kv_row_bytes) {
    float32x4_t v[NV];
    for (int j = 0; j < NV; ++j) v[j] = L::Load(row + 4 * j * L::kElem);
    for (int g = 0; g < NQ; ++g) {
      for (int j = 0; j < NV; ++j) acc[g][j] = vfmaq_n_f32(acc[g][j], v[j], probs[g][i]);
    }
  }
  for (int g = 0; g < NQ; ++g) {
    for (int j = 0; j < NV; ++j) vst1q_f32(out[g] + d0 + 4 * j, acc[g][j]);
  }
}

// NQ queries: head dims 16 at a time, then 4, then one by one.
template <class L, int NQ>
void ValuesQueries(const AttnArgs& a, const float* const* probs, float* const* out) {
  const int hd = a.head_dim;
  int d0 = 0;
  for (; d0 + 16 <= hd; d0 += 16) ValuesRows<L, NQ, 4>(a, probs, out, d0);
  for (; d0 + 4 <= hd; d0 += 4) ValuesRows<L, NQ, 1>(a, probs, out, d0);
  for (; d0 < hd; ++d0) {
    for (int g = 0; g < NQ; ++g) {
      float o = out[g][d0];
      for (int i = 0; i < a.n_pos; ++i) o = std::fma(probs[g][i], L::One(a.v + i * a.kv_row_bytes + d0 * L::kElem), o);
      out[g][d0] = o;
    }
  }
}

template <class L>
void ValuesT(const AttnArgs& a, const float* probs, float* out) {
  if (!a.accumulate) {
    for (int g = 0; g < a.n_q; ++g) std::memset(out + g * a.out_stride, 0, sizeof(float) * a.head_dim);
  }
  ForQueryGroups<4>(a.n_q, probs, a.scores_stride, out, a.out_stride,
                    [&](int nq, const float* const* pr, float* const* o) {
                      if (nq == 4) {
                        ValuesQueries<L, 4>(a, pr, o);
                      } else if (nq == 2) {
                        ValuesQueries<L, 2>(a, pr, o);
                      } else {
                        ValuesQueries<L, 1>(a, pr, o);
                      }
                    });
}

void ScoresOne(const AttnArgs& a, const float* q, float* scores) {
  for (int p = 0; p < a.n_pos; ++p) {
    const uint8_t* k = a.k + static_cast<size_t>(p) * a.kv_row_bytes;
    float32x4_t acc = vdupq_n_f32(0.0f);
    int d = 0;
    for (; d + 4 <= a.head_dim; d += 4) {
      const float32x4_t kv = a.kv_type == DType::kF16 ? F16L::Load(k + 2 * d) : F32L::Load(k + 4 * d);
      acc = vfmaq_f32(acc, vld1q_f32(q + d), kv);
    }
    float s = vaddvq_f32(acc);
    for (; d < a.head_dim; ++d) s += q[d] * (a.kv_type == DType::kF16 ? HalfAt(k + 2 * d) : F32L::One(k + 4 * d));
    scores[p] = s * a.scale;
  }
}

// Queries one after another (each reads the rows again, from cache).
void AttnScoresNeon(const AttnArgs& a, float* scores) {
  for (int g = 0; g < a.n_q; ++g) ScoresOne(a, a.q + g * a.q_stride, scores + g * a.scores_stride);
}

// Scores over dim-major K (attn_scores_kt): NQ queries x NV registers of 4 positions; each
// lane one position's chain of fused multiply-adds in dim order, then the scale (the
// reference's bits). Reads 4 * NV positions from k.
// Dim-major K of a tile: dim d of its positions at k + d * dim_bytes.
struct KtRows {
  const uint8_t* k;
  size_t dim_bytes;
  int hd;
};

template <class L, int NQ, int NV>
inline void ScoresKtTile(KtRows rows, const float* const* q, float* const* out, int np, float scale) {
  float32x4_t acc[NQ][NV];
  for (int g = 0; g < NQ; ++g) {
    for (int j = 0; j < NV; ++j) acc[g][j] = vdupq_n_f32(0.0f);
  }
  const uint8_t* k = rows.k;
  for (int d = 0; d < rows.hd; ++d, k += rows.dim_bytes) {
    float32x4_t kv[NV];
    for (int j = 0; j < NV; ++j) kv[j] = L::Load(k + 4 * j * L::kElem);
    for (int g = 0; g < NQ; ++g) {
      for (int j = 0; j < NV; ++j) acc[g][j] = vfmaq_n_f32(acc[g][j], kv[j], q[g][d]);
    }
  }
  for (int g = 0; g < NQ; ++g) {
    for (int j = 0; j < NV; ++j) {
      float t[4];
      vst1q_f32(t, vmulq_n_f32(acc[g][j], scale));
      for (int i = 0; i < 4 && 4 * j + i < np; ++i) out[g][4 * j + i] = t[i];
    }
  }
}

constexpr int kKtTailDim = 576;  // widest head dim of the tail tile

// Tiles of 16 positions, then of 4, then the last < 4 copied into a zero-padded tile.
template <class L, int NQ>
void ScoresKtQueries(const AttnArgs& a, const float* const* q, float* const* scores) {
  const int hd = a.head_dim, n = a.n_pos;
  float* out[NQ];
  const auto at = [&](int p0) {
    for (int g = 0; g < NQ; ++g) out[g] = scores[g] + p0;
    return a.k + static_cast<size_t>(p0) * L::kElem;
  };
  int p = 0;
  for (; p + 16 <= n; p += 16) ScoresKtTile<L, NQ, 4>({at(p), a.k_dim_bytes, hd}, q, out, 16, a.scale);
  for (; p + 4 <= n; p += 4) ScoresKtTile<L, NQ, 1>({at(p), a.k_dim_bytes, hd}, q, out, 4, a.scale);
  if (p == n) return;
  alignas(16) uint8_t tail[4 * 4 * kKtTailDim];
  std::memset(tail, 0, static_cast<size_t>(hd) * 4 * L::kElem);
  const uint8_t* src = at(p);
  for (int d = 0; d < hd; ++d) std::memcpy(tail + d * 4 * L::kElem, src + d * a.k_dim_bytes, (n - p) * L::kElem);
  ScoresKtTile<L, NQ, 1>({tail, 4 * L::kElem, hd}, q, out, n - p, a.scale);
}

template <class L>
void ScoresKtT(const AttnArgs& a, float* scores) {
  if (a.head_dim > kKtTailDim) {  // wider than the tail tile: the reference's loop
    ref::AttnScoresKt(a, scores);
    return;
  }
  ForQueryGroups<4>(a.n_q, a.q, a.q_stride, scores, a.scores_stride,
                    [&](int nq, const float* const* q, float* const* s) {
                      if (nq == 4) {
                        ScoresKtQueries<L, 4>(a, q, s);
                      } else if (nq == 2) {
                        ScoresKtQueries<L, 2>(a, q, s);
                      } else {
                        ScoresKtQueries<L, 1>(a, q, s);
                      }
                    });
}

void AttnScoresKtNeon(const AttnArgs& a, float* scores) {
  if (a.kv_type == DType::kF16) {
    ScoresKtT<F16L>(a, scores);
  } else {
    ScoresKtT<F32L>(a, scores);
  }
}

void AttnValuesNeon(const AttnArgs& a, const float* probs, float* out) {
  if (a.kv_type == DType::kF16) {
    ValuesT<F16L>(a, probs, out);
  } else {
    ValuesT<F32L>(a, probs, out);
  }
}

}  // namespace

void FillNeonKernels(KernelTable* t) {
  t->isa = "neon";
  t->matmul[static_cast<uint32_t>(DType::kF32)].matmul = &FloatMatMulNeon<F32L>;
  t->matmul[static_cast<uint32_t>(DType::kF16)].matmul = &FloatMatMulNeon<F16L>;
  t->matmul[static_cast<uint32_t>(DType::kBF16)].matmul = &FloatMatMulNeon<Bf16L>;
  t->rms_norm = &RmsNormNeon;
  t->silu_mul = &SiluMulNeon;
  t->swiglu_oai = &SwigluOaiNeon;
  t->axpy = &AxpyNeon;
  t->softmax = &SoftmaxNeon;
  t->attn_scores = &AttnScoresNeon;
  t->attn_scores_kt = &AttnScoresKtNeon;
  t->attn_values = &AttnValuesNeon;
  if (GetCpuFeatures().neon_dotprod) {
    FillNeonDotprodKernels(t);
    t->isa = "neon-dotprod";
  }
}

}  // namespace omnicoder
