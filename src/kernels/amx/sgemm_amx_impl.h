// AMX-BF16 sgemm: A and B are rounded to BF16 while packing (round to nearest even),
// products accumulate in f32 tiles. Register block 32 x 32 = 2 x 2 tiles of 16 x 16 f32;
// each step multiplies a 32-wide slice of k (A tiles [16 rows][32 bf16], B tiles in the
// VNNI pair layout [16 k-pairs][16 columns][2]). Edges are zero-padded in the packs.
//
// The loop nest follows SgemmArgs' contract: per C block the k sum runs in kSgemmKc
// blocks in order (tiles zeroed per block, then added to C), so a split of C over
// threads never changes a bit.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/amx/amx_tiles.h"
#include "kernels/kernel_table.h"

namespace omnicoder {

namespace {

constexpr int kMc = 128;  // rows of A per pack (multiple of 32)
constexpr int kNc = 512;  // columns of B per pack (multiple of 32)

alignas(64) constexpr TileConfig kBf16Tiles = {1,
                                               0,
                                               {},
                                               {64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0},
                                               {16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0}};

void ConfigureTiles() {
  OC_TILE_LOADCONFIG(&kBf16Tiles);
}

// 16 x 16 f32 transpose: out[c][r] = in[r * stride + c] for r, c < 16 (rows past `rows`
// and columns past `cols` read as zero).
void Transpose16(const float* in, int64_t stride, int rows, int cols, float* out) {
  const __mmask16 m = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, in + i * stride) : _mm512_setzero_ps();
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(out + i * 16, r[i]);
}

// 32 f32 (two rows of 16: lo, hi) -> 32 bf16, interleaved lo[0], hi[0], lo[1], ... (VNNI).
inline __m512i PairBf16(__m512 lo, __m512 hi) {
  const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));  // lo in 0..15, hi in 16..31
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, both);
}

inline __m512 LoadRow16(const float* p, int n) {
  return _mm512_maskz_loadu_ps(n >= 16 ? 0xffff : static_cast<__mmask16>((1u << n) - 1), p);
}

// A rows [i0, i0 + mc) x k [p0, p0 + kc) -> per 32-row panel, per 32-k step: [32 rows][32 bf16].
void PackA(const SgemmArgs& g, int i0, int mc, int p0, int kc, uint16_t* dst) {
  const int kc32 = (kc + 31) / 32 * 32;
  alignas(64) float tile[256];
  for (int r0 = 0; r0 < mc; r0 += 32) {
    uint16_t* panel = dst + static_cast<size_t>(r0) * kc32;
    for (int k0 = 0; k0 < kc32; k0 += 32) {
      uint16_t* out = panel + static_cast<size_t>(k0) * 32;  // 32 rows x 32 bf16
      const int kn = kc - k0 < 32 ? (kc - k0 > 0 ? kc - k0 : 0) : 32;
      if (g.a_col == 1) {  // contiguous rows: convert 32 k at a time straight into the tile rows
        const __mmask16 m0 = kn >= 16 ? 0xffff : static_cast<__mmask16>((1u << kn) - 1);
        const __mmask16 m1 = kn >= 32 ? 0xffff : kn > 16 ? static_cast<__mmask16>((1u << (kn - 16)) - 1) : 0;
        for (int r = 0; r < 32; ++r) {
          __m512i v = _mm512_setzero_si512();
          if (r0 + r < mc) {
            const float* src = g.a + static_cast<int64_t>(i0 + r0 + r) * g.a_row + (p0 + k0);
            v = reinterpret_cast<__m512i>(
                _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, src + 16), _mm512_maskz_loadu_ps(m0, src)));
          }
          _mm512_storeu_si512(out + r * 32, v);
        }
        continue;
      }
      for (int half = 0; half < 2; ++half) {  // rows r0 + 16 * half ..
        const int rbase = r0 + 16 * half, rows = mc - rbase < 16 ? (mc - rbase > 0 ? mc - rbase : 0) : 16;
        for (int kk = 0; kk < 32; kk += 16) {
          const int kcols = kn - kk < 16 ? (kn - kk > 0 ? kn - kk : 0) : 16;
          const float* src =
              g.a + static_cast<int64_t>(i0 + rbase) * g.a_row + static_cast<int64_t>(p0 + k0 + kk) * g.a_col;
          Transpose16(src, g.a_col, kcols, rows, tile);  // k rows are contiguous in i
          for (int r = 0; r < 16; ++r) {
            const __m256i b = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_loadu_ps(tile + r * 16)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (16 * half + r) * 32 + kk), b);
          }
        }
      }
    }
  }
}

// B k [p0, p0 + kc) x columns [j0, j0 + nc) -> per 16-column panel, per 32-k step:
// [16 k-pairs][16 columns][2] bf16.
void PackB(const SgemmArgs& g, int j0, int nc, int p0, int kc, uint16_t* dst) {
  const int kc32 = (kc + 31) / 32 * 32;
  alignas(64) float rows_kn[32 * 16];  // [k][n] for one 32 x 16 step
  for (int c0 = 0; c0 < nc; c0 += 16) {
    const int cols = nc - c0 < 16 ? nc - c0 : 16;
    uint16_t* panel = dst + static_cast<size_t>(c0) * kc32;
    for (int k0 = 0; k0 < kc32; k0 += 32) {
      const int kn = kc - k0 < 32 ? (kc - k0 > 0 ? kc - k0 : 0) : 32;
      const float* src = g.b + static_cast<int64_t>(p0 + k0) * g.b_row + static_cast<int64_t>(j0 + c0) * g.b_col;
      if (g.b_col == 1) {
        for (int k = 0; k < 32; ++k) {
          const __m512 v = k < kn ? LoadRow16(src + k * g.b_row, cols) : _mm512_setzero_ps();
          _mm512_storeu_ps(rows_kn + k * 16, v);
        }
      } else {  // columns are contiguous in k: transpose 16 n x 16 k twice
        Transpose16(src, g.b_col, cols, kn < 16 ? kn : 16, rows_kn);
        Transpose16(src + 16 * g.b_row, g.b_col, cols, kn > 16 ? kn - 16 : 0, rows_kn + 256);
      }
      uint16_t* out = panel + static_cast<size_t>(k0) * 16;  // 16 pairs x 16 columns x 2
      for (int pair = 0; pair < 16; ++pair) {
        const __m512i v =
            PairBf16(_mm512_loadu_ps(rows_kn + 2 * pair * 16), _mm512_loadu_ps(rows_kn + (2 * pair + 1) * 16));
        _mm512_storeu_si512(out + pair * 32, v);
      }
    }
  }
}

// C[32 x 32] block (rows/cols valid) += A panel (32 rows) . B panels (2 x 16 columns).
struct AmxTile {
  int kc32;
  const uint16_t* a;
  const uint16_t* b0;
  const uint16_t* b1;
  float* c;
  int64_t ldc;
  int rows, cols;
  bool overwrite;
};

void Micro(const AmxTile& t) {
  const int kc32 = t.kc32, rows = t.rows, cols = t.cols;
  const uint16_t *a = t.a, *b0 = t.b0, *b1 = t.b1;
  float* c = t.c;
  const int64_t ldc = t.ldc;
  const bool overwrite = t.overwrite;
  OC_TILE_ZERO(0);
  OC_TILE_ZERO(1);
  OC_TILE_ZERO(2);
  OC_TILE_ZERO(3);
  for (int k0 = 0; k0 < kc32; k0 += 32) {
    const uint16_t* ak = a + static_cast<size_t>(k0) * 32;
    OC_TILE_LOADD(4, ak, 64);
    OC_TILE_LOADD(5, ak + 16 * 32, 64);
    OC_TILE_LOADD(6, b0 + static_cast<size_t>(k0) * 16, 64);
    OC_TILE_LOADD(7, b1 + static_cast<size_t>(k0) * 16, 64);
    OC_TILE_DPBF16PS(0, 4, 6);
    OC_TILE_DPBF16PS(1, 4, 7);
    OC_TILE_DPBF16PS(2, 5, 6);
    OC_TILE_DPBF16PS(3, 5, 7);
  }
  alignas(64) float out[32 * 32];
  OC_TILE_STORED(0, out, 128);
  OC_TILE_STORED(1, out + 16, 128);
  OC_TILE_STORED(2, out + 16 * 32, 128);
  OC_TILE_STORED(3, out + 16 * 32 + 16, 128);
  const __mmask16 m0 = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? static_cast<__mmask16>((1u << (cols - 16)) - 1) : 0;
  for (int r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    const __m512 v0 = _mm512_load_ps(out + r * 32), v1 = _mm512_load_ps(out + r * 32 + 16);
    if (overwrite) {
      _mm512_mask_storeu_ps(cr, m0, v0);
      _mm512_mask_storeu_ps(cr + 16, m1, v1);
    } else {
      _mm512_mask_storeu_ps(cr, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), v0));
      _mm512_mask_storeu_ps(cr + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), v1));
    }
  }
}

void SgemmAmx(const SgemmArgs& g, int m0, int m1, int n0, int n1, float* pack) {
  static_assert(size_t{kSgemmKc} * (kMc + kNc) * 2 <= kSgemmPackFloats * 4, "bf16 packs fit the f32 pack buffer");
  ConfigureTiles();
  uint16_t* bpack = reinterpret_cast<uint16_t*>(pack);
  uint16_t* apack = bpack + static_cast<size_t>(kSgemmKc) * kNc;
  for (int j0 = n0; j0 < n1; j0 += kNc) {
    const int nc = n1 - j0 < kNc ? n1 - j0 : kNc;
    if (g.k == 0 && !g.accumulate) {
      for (int i = m0; i < m1; ++i) std::memset(g.c + static_cast<int64_t>(i) * g.ldc + j0, 0, sizeof(float) * nc);
    }
    for (int p0 = 0; p0 < g.k; p0 += kSgemmKc) {
      const int kc = g.k - p0 < kSgemmKc ? g.k - p0 : kSgemmKc;
      const int kc32 = (kc + 31) / 32 * 32;
      const bool overwrite = p0 == 0 && !g.accumulate;
      PackB(g, j0, nc, p0, kc, bpack);
      for (int i0 = m0; i0 < m1; i0 += kMc) {
        const int mc = m1 - i0 < kMc ? m1 - i0 : kMc;
        PackA(g, i0, mc, p0, kc, apack);
        for (int jr = 0; jr < nc; jr += 32) {
          const uint16_t* b0 = bpack + static_cast<size_t>(jr) * kc32;
          const uint16_t* b1 = jr + 16 < nc ? b0 + static_cast<size_t>(16) * kc32 : b0;
          for (int ir = 0; ir < mc; ir += 32) {
            float* c = g.c + static_cast<int64_t>(i0 + ir) * g.ldc + (j0 + jr);
            Micro({kc32, apack + static_cast<size_t>(ir) * kc32, b0, b1, c, g.ldc, mc - ir < 32 ? mc - ir : 32,
                   nc - jr < 32 ? nc - jr : 32, overwrite});
          }
        }
      }
    }
  }
  OC_TILE_RELEASE();
}

}  // namespace

namespace OC_AMX_NS {
void FillAmxSgemm(KernelTable* t) {
  t->sgemm_bf16 = &SgemmAmx;
}
}  // namespace OC_AMX_NS

}  // namespace omnicoder
