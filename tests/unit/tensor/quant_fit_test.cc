// tensor layer: the lane-parallel scale fits (quant_fit.h) against the plain sweeps they
// replace, one candidate at a time, bit for bit: random blocks of many shapes, outliers,
// one-signed and constant blocks, tiny and huge magnitudes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/quant_fit.h"

namespace omnicoder {
namespace {

int RoundInt(float v) {
  return static_cast<int>(std::nearbyint(v));
}
int ClampInt(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

float PlainFitAsymmetric(const float* x, const float* w, int n, int nmax, float* min_out) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (lo > 0.0f) lo = 0.0f;
  if (hi == lo) {
    *min_out = -lo;
    return 0.0f;
  }
  float best_scale = (hi - lo) / static_cast<float>(nmax), best_min = -lo, best_err = INFINITY;
  int L[32];
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / (hi - lo);
    float sw = 0, sl = 0, sl2 = 0, sx = 0, sxl = 0;
    for (int i = 0; i < n; ++i) {
      L[i] = ClampInt(RoundInt((x[i] - lo) * iscale), 0, nmax);
      sw += w[i];
      sl += w[i] * L[i];
      sl2 += w[i] * L[i] * L[i];
      sx += w[i] * x[i];
      sxl += w[i] * x[i] * L[i];
    }
    const float det = sw * sl2 - sl * sl;
    if (det <= 0.0f) continue;
    float scale = (sw * sxl - sx * sl) / det;
    float offset = (sl2 * sx - sl * sxl) / det;
    if (offset > 0.0f) {
      offset = 0.0f;
      scale = sl2 > 0.0f ? sxl / sl2 : 0.0f;
    }
    if (scale <= 0.0f) continue;
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * L[i] + offset - x[i];
      err += w[i] * diff * diff;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
      best_min = -offset;
    }
  }
  *min_out = best_min;
  return best_scale;
}

float PlainFitSymmetric(const float* x, const float* w, int n, int nmax) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  float best_scale = max / -static_cast<float>(nmax), best_score = -1.0f;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    float sxl = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = ClampInt(RoundInt(x[i] * iscale), -nmax, nmax - 1);
      sxl += w[i] * x[i] * l;
      sl2 += w[i] * l * l;
    }
    if (sl2 <= 0.0f) continue;
    const float score = sxl * sxl / sl2;
    if (score > best_score) {
      best_score = score;
      best_scale = sxl / sl2;
    }
  }
  return best_scale;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Blocks of one kind: 0 gaussian, 1 gaussian with an outlier, 2 all positive, 3 all
// negative, 4 few distinct values (ties between candidates), 5 constant, 6 tiny (1e-30),
// 7 huge (1e30), 8 mixed zeros.
std::vector<float> Block(int kind, int n, std::mt19937* rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = g(*rng);
  switch (kind) {
    case 1:
      x[(*rng)() % n] *= 40.0f;
      break;
    case 2:
      for (float& v : x) v = std::fabs(v) + 0.5f;
      break;
    case 3:
      for (float& v : x) v = -std::fabs(v);
      break;
    case 4:
      for (float& v : x) v = std::round(v * 2.0f) / 4.0f;
      break;
    case 5:
      for (float& v : x) v = 0.75f;
      break;
    case 6:
      for (float& v : x) v *= 1e-30f;
      break;
    case 7:
      for (float& v : x) v *= 1e30f;
      break;
    case 8:
      for (int i = 0; i < n; i += 2) x[i] = 0.0f;
      break;
    default:
      break;
  }
  return x;
}

std::vector<float> Importance(const std::vector<float>& x) {
  float sum2 = 0.0f;
  for (float v : x) sum2 += v * v;
  const float sigma = std::sqrt(sum2 / static_cast<float>(x.size()));
  std::vector<float> w(x.size());
  for (size_t i = 0; i < x.size(); ++i) w[i] = sigma + std::fabs(x[i]);
  return w;
}

TEST(QuantFit, AsymmetricIsBitwiseThePlainSweep) {
  std::mt19937 rng(7);
  int checked = 0;
  for (int nmax : {15, 31}) {
    for (int n : {32, 16, 7, 1}) {
      for (int kind = 0; kind <= 8; ++kind) {
        for (int rep = 0; rep < 400; ++rep) {
          const std::vector<float> x = Block(kind, n, &rng), w = Importance(x);
          float min_fast = -1.0f, min_plain = -2.0f;
          const float fast = FitAsymmetric(x.data(), w.data(), n, nmax, &min_fast);
          const float plain = PlainFitAsymmetric(x.data(), w.data(), n, nmax, &min_plain);
          ASSERT_EQ(Bits(fast), Bits(plain)) << "nmax " << nmax << " n " << n << " kind " << kind << " rep " << rep;
          ASSERT_EQ(Bits(min_fast), Bits(min_plain)) << "nmax " << nmax << " n " << n << " kind " << kind;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 4 * 9 * 400);
}

TEST(QuantFit, SymmetricIsBitwiseThePlainSweep) {
  std::mt19937 rng(11);
  for (int nmax : {32, 8, 128}) {
    for (int n : {16, 32, 5, 1}) {
      for (int kind = 0; kind <= 8; ++kind) {
        for (int rep = 0; rep < 400; ++rep) {
          const std::vector<float> x = Block(kind, n, &rng), w = Importance(x);
          const float fast = FitSymmetric(x.data(), w.data(), n, nmax);
          const float plain = PlainFitSymmetric(x.data(), w.data(), n, nmax);
          ASSERT_EQ(Bits(fast), Bits(plain)) << "nmax " << nmax << " n " << n << " kind " << kind << " rep " << rep;
        }
      }
    }
  }
}

// The fit the sweep keeps is a good one: no worse than the first candidate's plain grid.
TEST(QuantFit, AsymmetricFitReconstructsAGaussianBlock) {
  std::mt19937 rng(3);
  const std::vector<float> x = Block(0, 32, &rng), w = Importance(x);
  float min = 0.0f;
  const float scale = FitAsymmetric(x.data(), w.data(), 32, 15, &min);
  ASSERT_GT(scale, 0.0f);
  ASSERT_GE(min, 0.0f);
  double err = 0, energy = 0;
  for (float v : x) {
    const float l = std::fmin(15.0f, std::fmax(0.0f, std::nearbyint((v + min) / scale)));
    err += (scale * l - min - v) * (scale * l - min - v);
    energy += v * v;
  }
  EXPECT_LT(std::sqrt(err / energy), 0.12);
}

}  // namespace
}  // namespace omnicoder
