// Training ops: parallel GEMM tiles, RMSNorm, RoPE, SwiGLU.
#include "train/ops.h"

#include <cmath>
#include <cstring>

#include "threading/thread_pool.h"

namespace omnicoder {

bool TrainContext::Init(const KernelTable* k, ThreadPool* p, bool bf16) {
  kernels = k;
  pool = p;
  sgemm = bf16 && k->sgemm_bf16 ? k->sgemm_bf16 : k->sgemm;
  pack.resize(p->size());
  for (AlignedBuffer& b : pack) b.Allocate(sizeof(float) * kSgemmPackFloats);
  return sgemm != k->sgemm;
}

void GemmTile(TrainContext& ctx, int thread, const SgemmArgs& g, TileRange t) {
  if (t.m0 < t.m1 && t.n0 < t.n1) ctx.sgemm(g, t.m0, t.m1, t.n0, t.n1, ctx.Pack(thread));
}

SgemmArgs MakeSgemm(GemmDims d, Mat a, Mat b, MatOut c, bool accumulate) {
  SgemmArgs g;
  g.m = d.m, g.n = d.n, g.k = d.k;
  g.a = a.data, g.a_row = a.row, g.a_col = a.col;
  g.b = b.data, g.b_row = b.row, g.b_col = b.col;
  g.c = c.data, g.ldc = c.ld;
  g.accumulate = accumulate;
  return g;
}

void Gemm(TrainContext& ctx, GemmDims d, Mat a, Mat b, MatOut c, bool accumulate) {
  const int m = d.m, n = d.n;
  const SgemmArgs g = MakeSgemm(d, a, b, c, accumulate);
  const int threads = ctx.pool->size();
  // Split the longer side; tile bounds only move work, never change a sum's order.
  const bool split_rows = m >= n || n < 64;
  const int64_t extent = split_rows ? m : n;
  const int64_t grain = split_rows ? 12 : 32;
  if (threads == 1 || extent < 2 * grain) {
    GemmTile(ctx, 0, g, {0, m, 0, n});
    return;
  }
  ctx.pool->Run([&](int t) {
    int64_t b0, b1;
    SplitRange(extent, grain, threads, t, &b0, &b1);
    if (split_rows) {
      GemmTile(ctx, t, g, {static_cast<int>(b0), static_cast<int>(b1), 0, n});
    } else {
      GemmTile(ctx, t, g, {0, m, static_cast<int>(b0), static_cast<int>(b1)});
    }
  });
}

void RmsNormForward(TrainContext& ctx, const NormRows& norm, const float* x, float* y, float* rstd) {
  const float* w = norm.w;
  const float eps = norm.eps;
  const int rows = norm.rows, n = norm.n;
  ctx.pool->ParallelFor(rows, 16, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      double ss = 0;
      for (int i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const float s = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
      rstd[r] = s;
      float* yr = y + r * n;
      for (int i = 0; i < n; ++i) yr[i] = xr[i] * s * w[i];
    }
  });
}

void RmsNormBackward(TrainContext& ctx, const NormRows& norm, const float* x, const float* rstd, const float* dy,
                     const NormGrads& grads) {
  const float* w = norm.w;
  const int rows = norm.rows, n = norm.n;
  float* dx = grads.dx;
  float* dw = grads.dw;
  const bool accumulate_dx = grads.accumulate_dx;
  ctx.pool->ParallelFor(rows, 16, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      const float* dyr = dy + r * n;
      const float s = rstd[r];
      double dot = 0;  // sum (dy * w) * xhat
      for (int i = 0; i < n; ++i) dot += static_cast<double>(dyr[i]) * w[i] * xr[i] * s;
      const float mean = static_cast<float>(dot / n);
      float* dxr = dx + r * n;
      for (int i = 0; i < n; ++i) {
        const float xhat = xr[i] * s;
        const float v = s * (dyr[i] * w[i] - xhat * mean);
        dxr[i] = accumulate_dx ? dxr[i] + v : v;
      }
    }
  });
  // Column blocks, rows in order inside: cache-friendly and independent of threads.
  ctx.pool->ParallelFor(n, 64, [&](int64_t c0, int64_t c1, int) {
    double acc[64];
    for (int64_t b = c0; b < c1; b += 64) {
      const int64_t e = b + 64 < c1 ? b + 64 : c1;
      for (int64_t c = b; c < e; ++c) acc[c - b] = 0;
      for (int r = 0; r < rows; ++r) {
        const float* dyr = dy + static_cast<int64_t>(r) * n;
        const float* xr = x + static_cast<int64_t>(r) * n;
        const double s = rstd[r];
        for (int64_t c = b; c < e; ++c) acc[c - b] += static_cast<double>(dyr[c] * xr[c]) * s;
      }
      for (int64_t c = b; c < e; ++c) dw[c] += static_cast<float>(acc[c - b]);
    }
  });
}

void RopeTable(int n_pos, int head_dim, float base, float* table) {
  for (int p = 0; p < n_pos; ++p) {
    for (int i = 0; i < head_dim / 2; ++i) {
      const double theta = p * std::pow(static_cast<double>(base), -2.0 * i / head_dim);
      table[(static_cast<size_t>(p) * (head_dim / 2) + i) * 2] = static_cast<float>(std::cos(theta));
      table[(static_cast<size_t>(p) * (head_dim / 2) + i) * 2 + 1] = static_cast<float>(std::sin(theta));
    }
  }
}

void Rope(TrainContext& ctx, float* x, const RopeRows& rr, bool inverse) {
  const int rows = rr.rows, n_heads = rr.n_heads, head_dim = rr.head_dim;
  const int32_t* pos = rr.pos;
  const float* table = rr.table;
  const int width = n_heads * head_dim, half = head_dim / 2;
  ctx.pool->ParallelFor(rows, 16, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = x + r * width;
      const float* cs = table + static_cast<size_t>(pos[r]) * half * 2;
      for (int h = 0; h < n_heads; ++h) {
        float* p = row + h * head_dim;
        for (int i = 0; i < half; ++i) {
          const float c = cs[2 * i], sn = inverse ? -cs[2 * i + 1] : cs[2 * i + 1];
          const float a = p[2 * i], b = p[2 * i + 1];
          p[2 * i] = a * c - b * sn;
          p[2 * i + 1] = a * sn + b * c;
        }
      }
    }
  });
}

void SiluMulForward(TrainContext& ctx, const float* g, const float* u, int64_t n, float* h) {
  ctx.pool->ParallelFor(n, 1024, [&](int64_t b, int64_t e, int) {
    std::memcpy(h + b, g + b, sizeof(float) * (e - b));
    ctx.kernels->silu_mul(h + b, u + b, static_cast<int>(e - b));
  });
}

void SiluMulBackward(TrainContext& ctx, const float* g, const float* u, const float* dh, int64_t n,
                     const SiluMulGrads& grads) {
  float* dg = grads.dg;
  float* du = grads.du;
  ctx.pool->ParallelFor(n, 1024, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const float sig = 1.0f / (1.0f + std::exp(-g[i]));
      const float silu = g[i] * sig;
      du[i] = dh[i] * silu;
      dg[i] = dh[i] * u[i] * sig * (1.0f + g[i] * (1.0f - sig));
    }
  });
}

}  // namespace omnicoder
