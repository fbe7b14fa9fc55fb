/* Block SSIM kernels, compiled on first use by synthprint.features._native.
 *
 * ssim_*_block(X, ii, Y, jj, ...) writes out[a * nj + b] = mean SSIM of X[ii[a]] and Y[jj[b]]
 * for every a < ni, b < nj, exactly as skimage.metrics.structural_similarity computes it
 * (ssim_u8_block: only where mask[a * nj + b] != 0 if a mask is given, NaN elsewhere).
 *
 * Only the "valid" part of each filtered map is computed: skimage crops (win_size - 1) / 2
 * pixels from every edge, which is exactly the filter radius, so no boundary mode matters.
 *
 * The block is swept row by row: for each output row, first the per-image rows (local mean
 * and variance, computed on the fly from running column sums, never stored for the whole
 * image), then every pair of the block, whose running column sums of x*y are its only state.
 * So the working set is a few rows per image plus one row per pair, which stays in the
 * L1/L2 caches, and each image row is reused by all its partners in the block.
 *
 * u8: box window, uint8 images. Window sums of x, x^2 and x*y are integers and the covariance
 *     numerators N*Sxy - Sx*Sy and N*Sxx - Sx^2 are computed exactly in integers (w <= 13);
 *     only the final per-pixel ratio is rounded (float32, relative error ~1e-7).
 * f64: any separable window (box or Gaussian), float64 images; everything in float64.
 *     Rows are ld elements apart and images ims elements apart: pad them so that neither is
 *     a multiple of 4 KiB, or the rows of a window collide in the same cache sets.
 * Each row's float32 partial sum is accumulated in float64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define RESTRICT __restrict__

static void *xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size ? size : 1); }

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define HAVE_AVX2 1
#define LDI(p) _mm256_loadu_si256((const __m256i *)(p))
#define STI(p, v) _mm256_storeu_si256((__m256i *)(p), (v))

/* The SSIM of 8 windows from their sums, as num * rcp: num = (2 m + c1)(2 cn cov + c2) with
 * m = Sx Sy and cov = N Sxy - Sx Sy (exact integers), rcp = 1 / (q r) with q = qx + qy and
 * r = rx + ry, from the 12-bit reciprocal and one Newton step (relative error ~1e-7). */
typedef struct { __m256 two, c1, tcn, c2, one; } ssim_consts;

static inline __attribute__((always_inline)) ssim_consts
ssim_consts_of(float twocn, float fc1, float fc2)
{
    ssim_consts k = {_mm256_set1_ps(2.0f), _mm256_set1_ps(fc1), _mm256_set1_ps(twocn),
                     _mm256_set1_ps(fc2), _mm256_set1_ps(1.0f)};
    return k;
}

static inline __attribute__((always_inline)) __m256
ssim_num(__m256i m, __m256i cov, const ssim_consts *k)
{
    __m256 a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), k->two, k->c1);
    __m256 a2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(cov), k->tcn, k->c2);
    return _mm256_mul_ps(a1, a2);
}

static inline __attribute__((always_inline)) __m256
ssim_rcp(__m256 q, __m256 r, const ssim_consts *k)
{
    __m256 d = _mm256_mul_ps(q, r);
    __m256 rc = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(rc, _mm256_fnmadd_ps(d, rc, k->one), rc);
}

/* The 8 windows' SSIM, num * rcp. Compute num before rcp: under -ffast-math the other order
 * changes the float32 rounding (~1e-9), and the results would no longer be bit-identical to
 * those the kernels were validated with. */
static inline __attribute__((always_inline)) __m256
ssim8(__m256i m, __m256i cov, __m256 q, __m256 r, const ssim_consts *k)
{
    __m256 num = ssim_num(m, cov, k);
    return _mm256_mul_ps(num, ssim_rcp(q, r, k));
}

/* row_ssim8: the same for 8 pixels of one output row of a pair, from its window sums of
 * N x*y (hv) and the two images' row maps: window sums (int16 pairs) s, q and r. */
static inline __attribute__((always_inline)) __m256
row_ssim8(__m256i hv, const int32_t *sx, const int32_t *sy, const float *qx, const float *qy,
          const float *rx, const float *ry, const ssim_consts *k)
{
    __m256i m = _mm256_madd_epi16(LDI(sx), LDI(sy));
    return ssim8(m, _mm256_sub_epi32(hv, m),
                 _mm256_add_ps(_mm256_loadu_ps(qx), _mm256_loadu_ps(qy)),
                 _mm256_add_ps(_mm256_loadu_ps(rx), _mm256_loadu_ps(ry)), k);
}

static inline __attribute__((always_inline)) float hsum8(__m256 v)
{
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

/* Pointers to the ni images X[ii[a]] followed by the nj images Y[jj[b]] (free() it). */
static const uint8_t **gather_images(const uint8_t *X, int64_t ni, const int64_t *ii,
                                     const uint8_t *Y, int64_t nj, const int64_t *jj,
                                     int H, int W)
{
    const uint8_t **im = xcalloc(ni + nj, sizeof(uint8_t *));
    if (!im) return NULL;
    for (int64_t a = 0; a < ni; a++) im[a] = X + ii[a] * (int64_t)H * W;
    for (int64_t b = 0; b < nj; b++) im[ni + b] = Y + jj[b] * (int64_t)H * W;
    return im;
}
#endif

/* Sum over one output row of the SSIM map of one pair (u8 kernel). cp: the pair's column
 * sums of x*y (W + 8 entries, zero padded); sx, sy: window sums of x and y; q = S^2 + c1h;
 * r = cn (N Sxx - S^2) + c2h; all rows padded to Wp (a multiple of 8) with finite values. */
static inline __attribute__((always_inline)) float
pair_row(const int32_t *RESTRICT cp, const int32_t *RESTRICT sx, const int32_t *RESTRICT sy,
         const float *RESTRICT qx, const float *RESTRICT qy,
         const float *RESTRICT rx, const float *RESTRICT ry,
         int Wo, int Wp, int w, int32_t N, float twocn, float fc1, float fc2)
{
#ifdef HAVE_AVX2
    const __m256i vN = _mm256_set1_epi32(N);
    const ssim_consts sc = ssim_consts_of(twocn, fc1, fc2);
    __m256 acc = _mm256_setzero_ps();
    for (int c = 0; c < Wp; c += 8) {
        __m256i h = LDI((cp + c));
        for (int t = 1; t < w; t++)
            h = _mm256_add_epi32(h, LDI((cp + c + t)));
        __m256i m = _mm256_mullo_epi32(LDI((sx + c)),
                                       LDI((sy + c)));
        __m256i cov = _mm256_sub_epi32(_mm256_mullo_epi32(h, vN), m);
        __m256 sv = ssim8(m, cov, _mm256_add_ps(_mm256_loadu_ps(qx + c), _mm256_loadu_ps(qy + c)),
                          _mm256_add_ps(_mm256_loadu_ps(rx + c), _mm256_loadu_ps(ry + c)), &sc);
        if (c + 8 > Wo) {
            const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(Wo - c), lane);
            sv = _mm256_and_ps(sv, _mm256_castsi256_ps(keep));
        }
        acc = _mm256_add_ps(acc, sv);
    }
    return hsum8(acc);
#else
    (void)Wp;
    float acc = 0.0f;
    for (int c = 0; c < Wo; c++) {
        int32_t h = 0;
        for (int t = 0; t < w; t++) h += cp[c + t];
        int32_t m = sx[c] * sy[c];
        int32_t cov = N * h - m;
        float a1 = 2.0f * (float)m + fc1;
        float a2 = twocn * (float)cov + fc2;
        float d = (qx[c] + qy[c]) * (rx[c] + ry[c]);
        acc += (a1 * a2) / d;
    }
    return acc;
#endif
}

#ifdef HAVE_AVX2
/* out[l] = d[l] + ... + d[l+6] for l < 8, d = the 16 lanes (d0, d1). */
static inline __attribute__((always_inline)) __m256i win7(__m256i d0, __m256i d1)
{
    const __m256i mid = _mm256_permute2x128_si256(d0, d1, 0x21);
    __m256i s1 = _mm256_add_epi32(d0, _mm256_alignr_epi8(mid, d0, 4));
    __m256i s2 = _mm256_add_epi32(_mm256_alignr_epi8(mid, d0, 8), _mm256_alignr_epi8(mid, d0, 12));
    __m256i s3 = _mm256_add_epi32(mid, _mm256_alignr_epi8(d1, mid, 4));
    __m256i s4 = _mm256_alignr_epi8(d1, mid, 8);
    return _mm256_add_epi32(_mm256_add_epi32(s1, s2), _mm256_add_epi32(s3, s4));
}

/* The same along a row, 8 outputs per step, sharing partial sums between steps (10 vector
 * ops instead of 13): state at step c is d(c), d(c+8), the lanes c+4..c+11 of d, and the
 * pair sums s2(c) = d(c) + d(c+1); w7_step(d(c+16)) returns win7 at c. */
typedef struct { __m256i d0, d1, md0, s20; } win7_state;

static inline __attribute__((always_inline)) void w7_init(win7_state *st, __m256i d0, __m256i d1)
{
    st->d0 = d0; st->d1 = d1;
    st->md0 = _mm256_permute2x128_si256(d0, d1, 0x21);
    st->s20 = _mm256_add_epi32(d0, _mm256_alignr_epi8(st->md0, d0, 4));
}

static inline __attribute__((always_inline)) __m256i w7_step(win7_state *st, __m256i d2)
{
    const __m256i md1 = _mm256_permute2x128_si256(st->d1, d2, 0x21);
    const __m256i s21 = _mm256_add_epi32(st->d1, _mm256_alignr_epi8(md1, st->d1, 4));
    const __m256i ms2 = _mm256_permute2x128_si256(st->s20, s21, 0x21);
    const __m256i s40 = _mm256_add_epi32(st->s20, _mm256_alignr_epi8(ms2, st->s20, 8));
    const __m256i out = _mm256_add_epi32(_mm256_add_epi32(s40, ms2),
                                         _mm256_alignr_epi8(st->d1, st->md0, 8));
    st->d0 = st->d1; st->d1 = d2; st->md0 = md1; st->s20 = s21;
    return out;
}

/* The u8 kernel for the 7x7 window and W % 8 == 0 (AVX2). Per image the state is the row
 * of window sums of x and N x^2; per pair the row of window sums of N x y (N = 49). Moving
 * one row down adds the window sums of (new row - old row), whose products come from
 * vpmaddwd on interleaved (new, old) int16 pairs: (xa, xs) . (N ya, -N ys) = N (xa ya - xs ys).
 * Window sums of x are < 2^14, so their products are vpmaddwd of (S, 0) pairs too; no
 * 32-bit multiply is needed and everything before the final ratio is exact. */
static int ssim_u8_block_w7(const uint8_t **img, int64_t ni, int64_t nj, int H, int W,
                            double cn, double C1, double C2, const uint8_t *mask,
                            double *RESTRICT out)
{
    const int w = 7, Ho = H - w + 1, Wo = W - w + 1, Wz = W + 16;
    const int32_t N = 49;
    const int64_t nimg = ni + nj, npair = ni * nj;
    int32_t *B1 = xcalloc(nimg * W, sizeof(int32_t)), *B2 = xcalloc(nimg * W, sizeof(int32_t));
    int32_t *S = xcalloc(nimg * W, sizeof(int32_t));
    float *Q = xcalloc(nimg * W, sizeof(float)), *R = xcalloc(nimg * W, sizeof(float));
    uint32_t *ZP = xcalloc(nimg * Wz, sizeof(uint32_t)), *ZN = xcalloc(nimg * Wz, sizeof(uint32_t));
    int32_t *HS = xcalloc(npair * W, sizeof(int32_t));
    double *total = xcalloc(npair, sizeof(double));
    int32_t *col = xcalloc(W + 8, sizeof(int32_t)), *col2 = xcalloc(W + 8, sizeof(int32_t));
    if (!B1 || !B2 || !S || !Q || !R || !ZP || !ZN || !HS || !total || !col || !col2) {
        free(B1); free(B2); free(S); free(Q); free(R); free(ZP); free(ZN); free(HS);
        free(total); free(col); free(col2);
        return -1;
    }
    const double NN = (double)N * N;
    const __m256 vc1h = _mm256_set1_ps((float)(C1 * NN / 2));
    const __m256 vc2h = _mm256_set1_ps((float)(C2 * NN / 2));
    const __m256 vcn = _mm256_set1_ps((float)cn);
    const ssim_consts sc = ssim_consts_of((float)(2.0 * cn), (float)(C1 * NN), (float)(C2 * NN));
    const __m256i pm = _mm256_set1_epi32((int32_t)0xFFFF0001); /* int16 pair (1, -1) */
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(Wo - (W - 8)), lane);

    /* initial window sums (row 0) */
    for (int64_t g = 0; g < nimg; g++) {
        const uint8_t *x = img[g];
        for (int c = 0; c < W + 8; c++) { col[c] = 0; col2[c] = 0; }
        for (int t = 0; t < w; t++)
            for (int c = 0; c < W; c++) {
                int32_t v = x[t * W + c];
                col[c] += v; col2[c] += N * v * v;
            }
        for (int c = 0; c < W; c++) {
            int32_t a1 = 0, a2 = 0;
            for (int t = 0; t < w; t++) { a1 += col[c + t]; a2 += col2[c + t]; }
            B1[g * W + c] = a1; B2[g * W + c] = a2;
        }
    }
    for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < nj; b++) {
            if (mask && !mask[a * nj + b]) continue;
            const uint8_t *x = img[a], *y = img[ni + b];
            for (int c = 0; c < W + 8; c++) col[c] = 0;
            for (int t = 0; t < w; t++)
                for (int c = 0; c < W; c++) col[c] += N * (int32_t)x[t * W + c] * y[t * W + c];
            int32_t *h = HS + (a * nj + b) * W;
            for (int c = 0; c < W; c++) {
                int32_t s = 0;
                for (int t = 0; t < w; t++) s += col[c + t];
                h[c] = s;
            }
        }

    for (int ro = 0; ro < Ho; ro++) {
        const int last = (ro + 1 == Ho);
        /* per image: the maps of this row, the (new, old) rows, and the step to the next */
        for (int64_t g = 0; g < nimg; g++) {
            int32_t *b1 = B1 + g * W, *b2 = B2 + g * W, *s = S + g * W;
            float *q = Q + g * W, *r = R + g * W;
            uint32_t *zp = ZP + g * Wz, *zn = ZN + g * Wz;
            if (!last) {
                const uint8_t *xa = img[g] + (ro + w) * W, *xs = img[g] + ro * W;
                for (int c = 0; c < W; c++) {
                    zp[c] = (uint32_t)xa[c] | ((uint32_t)xs[c] << 16);
                    zn[c] = (uint32_t)(N * xa[c])
                            | ((uint32_t)(uint16_t)(-(N * (int32_t)xs[c])) << 16);
                }
            }
            win7_state w1 = {0}, w2 = {0};
            if (!last) {
                __m256i z0 = LDI(zp), z1 = LDI(zp + 8);
                w7_init(&w1, _mm256_madd_epi16(z0, pm), _mm256_madd_epi16(z1, pm));
                w7_init(&w2, _mm256_madd_epi16(z0, LDI(zn)), _mm256_madd_epi16(z1, LDI(zn + 8)));
            }
            for (int c = 0; c < W; c += 8) {
                __m256i sv = LDI((b1 + c));
                __m256i ssv = LDI((b2 + c));
                __m256 sf = _mm256_cvtepi32_ps(sv);
                STI(s + c, sv);
                _mm256_storeu_ps(q + c, _mm256_fmadd_ps(sf, sf, vc1h));
                __m256i var = _mm256_sub_epi32(ssv, _mm256_madd_epi16(sv, sv));
                _mm256_storeu_ps(r + c, _mm256_fmadd_ps(_mm256_cvtepi32_ps(var), vcn, vc2h));
                if (!last) {
                    __m256i z = LDI(zp + c + 16);
                    STI(b1 + c, _mm256_add_epi32(sv, w7_step(&w1, _mm256_madd_epi16(z, pm))));
                    STI(b2 + c, _mm256_add_epi32(ssv, w7_step(&w2, _mm256_madd_epi16(
                        z, LDI(zn + c + 16)))));
                }
            }
        }
        /* per pair: this row's SSIM sum, then the step of its window sums of x*y */
        for (int64_t a = 0; a < ni; a++) {
            const int32_t *sx = S + a * W;
            const float *qx = Q + a * W, *rx = R + a * W;
            const uint32_t *zx = ZP + a * Wz;
            for (int64_t b = 0; b < nj; b++) {
                const int64_t p = a * nj + b;
                if (mask && !mask[p]) continue;
                int32_t *h = HS + p * W;
                const int32_t *sy = S + (ni + b) * W;
                const float *qy = Q + (ni + b) * W, *ry = R + (ni + b) * W;
                const uint32_t *zy = ZN + (ni + b) * Wz;
                __m256 acc = _mm256_setzero_ps();
                win7_state wp = {0};
                if (!last)
                    w7_init(&wp, _mm256_madd_epi16(LDI(zx), LDI(zy)),
                            _mm256_madd_epi16(LDI(zx + 8), LDI(zy + 8)));
                for (int c = 0; c < W; c += 8) {
                    __m256i hv = LDI((h + c));
                    __m256 sv = row_ssim8(hv, sx + c, sy + c, qx + c, qy + c, rx + c, ry + c,
                                          &sc);
                    if (c == W - 8) sv = _mm256_and_ps(sv, _mm256_castsi256_ps(keep));
                    acc = _mm256_add_ps(acc, sv);
                    if (!last) {
                        __m256i d2 = _mm256_madd_epi16(LDI(zx + c + 16), LDI(zy + c + 16));
                        STI(h + c, _mm256_add_epi32(hv, w7_step(&wp, d2)));
                    }
                }
                total[p] += hsum8(acc);
            }
        }
    }
    for (int64_t p = 0; p < npair; p++)
        out[p] = (mask && !mask[p]) ? NAN : total[p] / ((double)Ho * Wo);
    free(B1); free(B2); free(S); free(Q); free(R); free(ZP); free(ZN); free(HS);
    free(total); free(col); free(col2);
    return 0;
}

/* Mean of the SSIM map over the output rows 0, step, 2 step, ... only (all columns): an
 * unbiased, much cheaper estimate of the mean SSIM, for candidate search. 7x7 window,
 * W % 8 == 0. Each sampled row is computed directly: its 7 input rows are taken as int16
 * row pairs (x[r], x[r+1]) . (N y[r], N y[r+1]) with vpmaddwd, 4 per column. */
static int ssim_u8_rows_w7(const uint8_t **img, int64_t ni, int64_t nj, int H, int W, int step,
                           double cn, double C1, double C2, double *RESTRICT out)
{
    const int w = 7, Ho = H - w + 1, Wo = W - w + 1, Wz = W + 8;
    const int32_t N = 49;
    const int64_t nimg = ni + nj, npair = ni * nj;
    int32_t *S = xcalloc(nimg * W, sizeof(int32_t));
    float *Q = xcalloc(nimg * W, sizeof(float)), *R = xcalloc(nimg * W, sizeof(float));
    uint32_t *Z = xcalloc(nimg * 4 * Wz, sizeof(uint32_t));   /* 4 row pairs per image */
    double *total = xcalloc(npair, sizeof(double));
    int32_t *v1 = xcalloc(Wz, sizeof(int32_t)), *v2 = xcalloc(Wz, sizeof(int32_t));
    if (!S || !Q || !R || !Z || !total || !v1 || !v2) {
        free(S); free(Q); free(R); free(Z); free(total); free(v1); free(v2);
        return -1;
    }
    const double NN = (double)N * N;
    const __m256 vc1h = _mm256_set1_ps((float)(C1 * NN / 2));
    const __m256 vc2h = _mm256_set1_ps((float)(C2 * NN / 2));
    const __m256 vcn = _mm256_set1_ps((float)cn);
    const ssim_consts sc = ssim_consts_of((float)(2.0 * cn), (float)(C1 * NN), (float)(C2 * NN));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(Wo - (W - 8)), lane);
    int64_t nrows = 0;
    for (int ro = 0; ro < Ho; ro += step) {
        nrows++;
        for (int64_t g = 0; g < nimg; g++) {
            const uint8_t *x = img[g] + (int64_t)ro * W;
            const uint32_t scale = (g < ni) ? 1u : (uint32_t)N;
            uint32_t *z = Z + g * 4 * Wz;
            for (int k = 0; k < 4; k++) {
                const uint8_t *r0 = x + 2 * k * W, *r1 = x + (2 * k + 1) * W;
                uint32_t *zk = z + k * Wz;
                if (k < 3)
                    for (int c = 0; c < W; c++) zk[c] = scale * r0[c] | ((scale * r1[c]) << 16);
                else
                    for (int c = 0; c < W; c++) zk[c] = scale * r0[c];
            }
            /* window sums of x and N x^2 for this row */
            for (int c = 0; c < W + 8; c++) { v1[c] = 0; v2[c] = 0; }
            for (int t = 0; t < w; t++)
                for (int c = 0; c < W; c++) {
                    int32_t v = x[t * W + c];
                    v1[c] += v; v2[c] += N * v * v;
                }
            int32_t *s = S + g * W;
            float *q = Q + g * W, *r = R + g * W;
            __m256i p1 = LDI(v1);
            __m256i p2 = LDI(v2);
            for (int c = 0; c < W; c += 8) {
                __m256i n1 = LDI((v1 + c + 8));
                __m256i n2 = LDI((v2 + c + 8));
                __m256i sv = win7(p1, n1), ssv = win7(p2, n2);
                __m256 sf = _mm256_cvtepi32_ps(sv);
                STI(s + c, sv);
                _mm256_storeu_ps(q + c, _mm256_fmadd_ps(sf, sf, vc1h));
                __m256i var = _mm256_sub_epi32(ssv, _mm256_madd_epi16(sv, sv));
                _mm256_storeu_ps(r + c, _mm256_fmadd_ps(_mm256_cvtepi32_ps(var), vcn, vc2h));
                p1 = n1; p2 = n2;
            }
        }
        for (int64_t a = 0; a < ni; a++) {
            const int32_t *sx = S + a * W;
            const float *qx = Q + a * W, *rx = R + a * W;
            const uint32_t *zx = Z + a * 4 * Wz;
            for (int64_t b = 0; b < nj; b++) {
                const int32_t *sy = S + (ni + b) * W;
                const float *qy = Q + (ni + b) * W, *ry = R + (ni + b) * W;
                const uint32_t *zy = Z + (ni + b) * 4 * Wz;
                __m256 acc = _mm256_setzero_ps();
                __m256i vp = _mm256_setzero_si256();
                for (int k = 0; k < 4; k++)
                    vp = _mm256_add_epi32(vp, _mm256_madd_epi16(
                        LDI((zx + k * Wz)),
                        LDI((zy + k * Wz))));
                for (int c = 0; c < W; c += 8) {
                    __m256i vn = _mm256_setzero_si256();
                    for (int k = 0; k < 4; k++)
                        vn = _mm256_add_epi32(vn, _mm256_madd_epi16(
                            LDI((zx + k * Wz + c + 8)),
                            LDI((zy + k * Wz + c + 8))));
                    __m256i hv = win7(vp, vn);
                    vp = vn;
                    __m256 sv = row_ssim8(hv, sx + c, sy + c, qx + c, qy + c, rx + c, ry + c,
                                          &sc);
                    if (c == W - 8) sv = _mm256_and_ps(sv, _mm256_castsi256_ps(keep));
                    acc = _mm256_add_ps(acc, sv);
                }
                total[a * nj + b] += hsum8(acc);
            }
        }
    }
    for (int64_t p = 0; p < npair; p++) out[p] = total[p] / ((double)nrows * Wo);
    free(S); free(Q); free(R); free(Z); free(total); free(v1); free(v2);
    return 0;
}
#endif

int ssim_u8_block(const uint8_t *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                  const uint8_t *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                  int H, int W, int w, double cn, double C1, double C2,
                  const uint8_t *mask, double *RESTRICT out)
{
#ifdef HAVE_AVX2
    if (w == 7 && W % 8 == 0 && W >= 16) {
        const uint8_t **im = gather_images(X, ni, ii, Y, nj, jj, H, W);
        if (!im) return -1;
        int rc = ssim_u8_block_w7(im, ni, nj, H, W, cn, C1, C2, mask, out);
        free(im);
        return rc;
    }
#endif
    const int Ho = H - w + 1, Wo = W - w + 1, Wp = (Wo + 7) / 8 * 8, Wc = W + 8;
    const int32_t N = w * w;
    const int64_t nimg = ni + nj, npair = ni * nj, HW = (int64_t)H * W;
    /* per image: column sums of v and v^2; row maps S (int), Q, R (Wp each, padded) */
    int32_t *cs1 = xcalloc(nimg * Wc, sizeof(int32_t));
    int32_t *cs2 = xcalloc(nimg * Wc, sizeof(int32_t));
    int32_t *S = xcalloc(nimg * Wp, sizeof(int32_t));
    float *Q = xcalloc(nimg * Wp, sizeof(float));
    float *R = xcalloc(nimg * Wp, sizeof(float));
    /* per pair: column sums of x*y (zero padded) and the running total */
    int32_t *csp = xcalloc(npair * Wc, sizeof(int32_t));
    double *total = xcalloc(npair, sizeof(double));
    int32_t *ss = xcalloc(Wp, sizeof(int32_t));
    const uint8_t **img = xcalloc(nimg, sizeof(uint8_t *));
    if (!cs1 || !cs2 || !S || !Q || !R || !csp || !total || !ss || !img) {
        free(cs1); free(cs2); free(S); free(Q); free(R); free(csp); free(total);
        free(ss); free(img);
        return -1;
    }
    const double NN = (double)N * N;
    const float c1h = (float)(C1 * NN / 2), c2h = (float)(C2 * NN / 2);
    const float fc1 = (float)(C1 * NN), fc2 = (float)(C2 * NN), twocn = (float)(2.0 * cn);
    const float fcn = (float)cn;
    for (int64_t a = 0; a < ni; a++) img[a] = X + ii[a] * HW;
    for (int64_t b = 0; b < nj; b++) img[ni + b] = Y + jj[b] * HW;
    for (int64_t g = 0; g < nimg; g++)
        for (int c = Wo; c < Wp; c++) { Q[g * Wp + c] = 1.0f; R[g * Wp + c] = 1.0f; }

    for (int64_t g = 0; g < nimg; g++) {
        int32_t *c1 = cs1 + g * Wc, *c2 = cs2 + g * Wc;
        const uint8_t *x = img[g];
        for (int t = 0; t < w; t++)
            for (int c = 0; c < W; c++) {
                int32_t v = x[t * W + c];
                c1[c] += v; c2[c] += v * v;
            }
    }
    for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < nj; b++) {
            if (mask && !mask[a * nj + b]) continue;
            int32_t *cp = csp + (a * nj + b) * Wc;
            const uint8_t *x = img[a], *y = img[ni + b];
            for (int t = 0; t < w; t++)
                for (int c = 0; c < W; c++)
                    cp[c] += (int32_t)x[t * W + c] * (int32_t)y[t * W + c];
        }

    for (int ro = 0; ro < Ho; ro++) {
        const int last = (ro + 1 == Ho);
        for (int64_t g = 0; g < nimg; g++) {
            int32_t *c1 = cs1 + g * Wc, *c2 = cs2 + g * Wc;
            int32_t *s = S + g * Wp;
            float *q = Q + g * Wp, *r = R + g * Wp;
            for (int c = 0; c < Wo; c++) { s[c] = c1[c]; ss[c] = c2[c]; }
            for (int t = 1; t < w; t++)
                for (int c = 0; c < Wo; c++) { s[c] += c1[c + t]; ss[c] += c2[c + t]; }
            for (int c = 0; c < Wo; c++) {
                float sf = (float)s[c];
                q[c] = sf * sf + c1h;
                r[c] = fcn * (float)(N * ss[c] - s[c] * s[c]) + c2h;
            }
            if (!last) {
                const uint8_t *add = img[g] + (ro + w) * W, *sub = img[g] + ro * W;
                for (int c = 0; c < W; c++) {
                    int32_t va = add[c], vs = sub[c];
                    c1[c] += va - vs;
                    c2[c] += va * va - vs * vs;
                }
            }
        }
        for (int64_t a = 0; a < ni; a++) {
            const int32_t *sx = S + a * Wp;
            const float *qx = Q + a * Wp, *rx = R + a * Wp;
            const uint8_t *x = img[a];
            for (int64_t b = 0; b < nj; b++) {
                const int64_t p = a * nj + b;
                if (mask && !mask[p]) continue;
                int32_t *cp = csp + p * Wc;
                const int32_t *sy = S + (ni + b) * Wp;
                const float *qy = Q + (ni + b) * Wp, *ry = R + (ni + b) * Wp;
                float acc;
                if (w == 7)
                    acc = pair_row(cp, sx, sy, qx, qy, rx, ry, Wo, Wp, 7, N, twocn, fc1, fc2);
                else
                    acc = pair_row(cp, sx, sy, qx, qy, rx, ry, Wo, Wp, w, N, twocn, fc1, fc2);
                total[p] += acc;
                if (!last) {
                    const uint8_t *y = img[ni + b];
                    const uint8_t *xa = x + (ro + w) * W, *ya = y + (ro + w) * W;
                    const uint8_t *xs = x + ro * W, *ys = y + ro * W;
                    for (int c = 0; c < W; c++)
                        cp[c] += (int32_t)xa[c] * (int32_t)ya[c]
                                 - (int32_t)xs[c] * (int32_t)ys[c];
                }
            }
        }
    }
    for (int64_t p = 0; p < npair; p++)
        out[p] = (mask && !mask[p]) ? NAN : total[p] / ((double)Ho * Wo);
    free(cs1); free(cs2); free(S); free(Q); free(R); free(csp); free(total);
    free(ss); free(img);
    return 0;
}

static inline void set_mul(double *RESTRICT d, const double *RESTRICT x,
                           const double *RESTRICT y, int n)
{ for (int c = 0; c < n; c++) d[c] = x[c] * y[c]; }

/* out[c] = sum_t w[t] f(rows[t][c + t * shift]) for c < n, with f = identity or square:
 * 16 columns at a time in registers, so every row is loaded once and out stored once. */
static inline void filt16(double *RESTRICT out, const double *const *rows, int shift,
                          const double *RESTRICT w, int K, int n, int sq)
{
    int c = 0;
#ifdef HAVE_AVX2
    for (; c + 16 <= n; c += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < K; t++) {
            const double *r = rows[t] + c + t * shift;
            const __m256d wt = _mm256_set1_pd(w[t]);
            __m256d r0 = _mm256_loadu_pd(r), r1 = _mm256_loadu_pd(r + 4);
            __m256d r2 = _mm256_loadu_pd(r + 8), r3 = _mm256_loadu_pd(r + 12);
            if (sq) {
                r0 = _mm256_mul_pd(r0, r0); r1 = _mm256_mul_pd(r1, r1);
                r2 = _mm256_mul_pd(r2, r2); r3 = _mm256_mul_pd(r3, r3);
            }
            a0 = _mm256_fmadd_pd(wt, r0, a0); a1 = _mm256_fmadd_pd(wt, r1, a1);
            a2 = _mm256_fmadd_pd(wt, r2, a2); a3 = _mm256_fmadd_pd(wt, r3, a3);
        }
        _mm256_storeu_pd(out + c, a0); _mm256_storeu_pd(out + c + 4, a1);
        _mm256_storeu_pd(out + c + 8, a2); _mm256_storeu_pd(out + c + 12, a3);
    }
#endif
    for (; c < n; c++) {
        double acc = 0.0;
        for (int t = 0; t < K; t++) {
            const double v = rows[t][c + t * shift];
            acc += w[t] * (sq ? v * v : v);
        }
        out[c] = acc;
    }
}

/* out[c] = sum_t w[t] xr[t][c] yr[t][c] for c < n (the vertical pass of x*y). */
static inline void filt16_prod(double *RESTRICT out, const double *const *xr,
                               const double *const *yr, const double *RESTRICT w, int K, int n)
{
    int c = 0;
#ifdef HAVE_AVX2
    for (; c + 16 <= n; c += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < K; t++) {
            const double *x = xr[t] + c, *y = yr[t] + c;
            const __m256d wt = _mm256_set1_pd(w[t]);
#define PROD(o) _mm256_mul_pd(_mm256_loadu_pd(x + (o)), _mm256_loadu_pd(y + (o)))
            a0 = _mm256_fmadd_pd(wt, PROD(0), a0);
            a1 = _mm256_fmadd_pd(wt, PROD(4), a1);
            a2 = _mm256_fmadd_pd(wt, PROD(8), a2);
            a3 = _mm256_fmadd_pd(wt, PROD(12), a3);
#undef PROD
        }
        _mm256_storeu_pd(out + c, a0); _mm256_storeu_pd(out + c + 4, a1);
        _mm256_storeu_pd(out + c + 8, a2); _mm256_storeu_pd(out + c + 12, a3);
    }
#endif
    for (; c < n; c++) {
        double acc = 0.0;
        for (int t = 0; t < K; t++) acc += w[t] * (xr[t][c] * yr[t][c]);
        out[c] = acc;
    }
}

/* Separable filter of the K rows rows[0..K-1] (W wide) into out (W - K + 1 wide). */
static inline void sep_filter(double *RESTRICT out, double *RESTRICT tmp,
                              const double **rows, const double *RESTRICT wts,
                              int K, int W, int sq)
{
    const double *hrows[64];
    filt16(tmp, rows, 0, wts, K, W, sq);
    for (int t = 0; t < K; t++) hrows[t] = tmp;
    filt16(out, hrows, 1, wts, K, W - K + 1, 0);
}

int ssim_f64_block(const double *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                   const double *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                   int H, int W, int ld, int64_t ims, const double *RESTRICT wts, int K,
                   double cn, double C1, double C2, double *RESTRICT out)
{
    const int Ho = H - K + 1, Wo = W - K + 1;
    const int64_t nimg = ni + nj, npair = ni * nj;
    /* per image: its mean and variance maps (whole image, computed first); per pair and
     * output row: the vertical pass of x*y straight from the image rows, then horizontal */
    const int64_t HWo = (int64_t)Ho * Wo;
    double *MU = xcalloc(nimg * HWo, sizeof(double)), *V = xcalloc(nimg * HWo, sizeof(double));
    double *t1 = xcalloc(W, sizeof(double)), *t2 = xcalloc(W, sizeof(double));
    double *h1 = xcalloc(Wo, sizeof(double)), *h2 = xcalloc(Wo, sizeof(double));
    double *total = xcalloc(npair, sizeof(double));
    const double **img = xcalloc(nimg, sizeof(double *));
    const double **rows = xcalloc(3 * K, sizeof(double *));
    const double **yrows = rows + K, **hrows = rows + 2 * K;
    if (!MU || !V || !t1 || !t2 || !h1 || !h2 || !total || !img || !rows) {
        free(MU); free(V); free(t1); free(t2); free(h1); free(h2); free(total);
        free(img); free(rows);
        return -1;
    }
    for (int64_t a = 0; a < ni; a++) img[a] = X + ii[a] * ims;
    for (int64_t b = 0; b < nj; b++) img[ni + b] = Y + jj[b] * ims;
    for (int64_t g = 0; g < nimg; g++)
        for (int ro = 0; ro < Ho; ro++) {
            const double *x = img[g] + (int64_t)ro * ld;
            double *mu = MU + g * HWo + (int64_t)ro * Wo, *v = V + g * HWo + (int64_t)ro * Wo;
            for (int t = 0; t < K; t++) rows[t] = x + (int64_t)t * ld;
            sep_filter(h1, t1, rows, wts, K, W, 0);
            sep_filter(h2, t2, rows, wts, K, W, 1);
            for (int c = 0; c < Wo; c++) { mu[c] = h1[c]; v[c] = cn * (h2[c] - h1[c] * h1[c]); }
        }
    for (int ro = 0; ro < Ho; ro++) {
        for (int64_t a = 0; a < ni; a++) {
            const double *mx = MU + a * HWo + (int64_t)ro * Wo;
            const double *vx = V + a * HWo + (int64_t)ro * Wo;
            for (int t = 0; t < K; t++) rows[t] = img[a] + (int64_t)(ro + t) * ld;
            for (int64_t b = 0; b < nj; b++) {
                const int64_t p = a * nj + b;
                const double *my = MU + (ni + b) * HWo + (int64_t)ro * Wo;
                const double *vy = V + (ni + b) * HWo + (int64_t)ro * Wo;
                for (int t = 0; t < K; t++) yrows[t] = img[ni + b] + (int64_t)(ro + t) * ld;
                filt16_prod(t1, rows, yrows, wts, K, W);
                for (int t = 0; t < K; t++) hrows[t] = t1;
                filt16(h1, hrows, 1, wts, K, Wo, 0);
                double acc = 0.0;
                for (int c = 0; c < Wo; c++) {
                    const double ux = mx[c], uy = my[c];
                    const double vxy = cn * (h1[c] - ux * uy);
                    const double a1 = 2.0 * ux * uy + C1, a2 = 2.0 * vxy + C2;
                    const double b1 = ux * ux + uy * uy + C1, b2 = vx[c] + vy[c] + C2;
                    acc += (a1 * a2) / (b1 * b2);
                }
                total[p] += acc;
            }
        }
    }
    for (int64_t p = 0; p < npair; p++) out[p] = total[p] / ((double)Ho * Wo);
    free(MU); free(V); free(t1); free(t2); free(h1); free(h2); free(total);
    free(img); free(rows);
    return 0;
}

/* The row-sampled estimate (see ssim_u8_rows_w7); returns -2 where it is not compiled
 * (no AVX2, window other than 7, width not a multiple of 8): the caller then falls back. */
int ssim_u8_rows_block(const uint8_t *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                       const uint8_t *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                       int H, int W, int w, int step, double cn, double C1, double C2,
                       double *RESTRICT out)
{
#ifdef HAVE_AVX2
    if (w == 7 && W % 8 == 0 && W >= 16 && step >= 1) {
        const uint8_t **im = gather_images(X, ni, ii, Y, nj, jj, H, W);
        if (!im) return -1;
        int rc = ssim_u8_rows_w7(im, ni, nj, H, W, step, cn, C1, C2, out);
        free(im);
        return rc;
    }
#endif
    (void)X; (void)ni; (void)ii; (void)Y; (void)nj; (void)jj; (void)H; (void)W; (void)w;
    (void)step; (void)cn; (void)C1; (void)C2; (void)out;
    return -2;
}

/* Mean SSIM (7x7 box window) over the windows whose top-left corner lies on a step-pixel
 * grid, for every pair of the block: an estimate for candidate search (out as in the
 * other kernels). Per window, x*y sums are exact (vpmaddwd of int16 pairs (x_e, x_e+1) and
 * (N y_e, N y_e+1) over the 49 window pixels e); the per-window SSIM is float32. */
int ssim_u8_grid_block(const uint8_t *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                       const uint8_t *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                       int H, int W, int step, double cn, double C1, double C2,
                       double *RESTRICT out)
{
    const int w = 7, NP = 25;                 /* 49 pixels as 25 int16 pairs (last: e48, 0) */
    const int32_t N = 49;
    const int64_t njp = (nj + 7) / 8 * 8, HW = (int64_t)H * W;
    if (H < w || W < w || step < 1) return -2;
    uint32_t *bp = xcalloc(NP * njp, sizeof(uint32_t));
    int32_t *sb = xcalloc(njp, sizeof(int32_t));
    float *qb = xcalloc(njp, sizeof(float)), *rb = xcalloc(njp, sizeof(float));
    float *acc = xcalloc(ni * njp, sizeof(float));
    if (!bp || !sb || !qb || !rb || !acc) {
        free(bp); free(sb); free(qb); free(rb); free(acc);
        return -1;
    }
    const double NN = (double)N * N;
    const float c1h = (float)(C1 * NN / 2), c2h = (float)(C2 * NN / 2);
    const float fc1 = (float)(C1 * NN), fc2 = (float)(C2 * NN), twocn = (float)(2.0 * cn);
    const float fcn = (float)cn;
    for (int64_t b = nj; b < njp; b++) { qb[b] = 1.0f; rb[b] = 1.0f; }
    int64_t nwin = 0;
    for (int r0 = 0; r0 + w <= H; r0 += step)
        for (int c0 = 0; c0 + w <= W; c0 += step) {
            nwin++;
            for (int64_t b = 0; b < nj; b++) {
                const uint8_t *y = Y + jj[b] * HW + (int64_t)r0 * W + c0;
                int32_t v[50], s = 0, ss = 0;
                for (int dr = 0; dr < 7; dr++)
                    for (int dc = 0; dc < 7; dc++) v[7 * dr + dc] = y[dr * W + dc];
                for (int e = 0; e < 49; e++) { s += v[e]; ss += v[e] * v[e]; }
                v[49] = 0;
                for (int k = 0; k < NP; k++)
                    bp[k * njp + b] = (uint32_t)(N * v[2 * k])
                                      | ((uint32_t)(N * v[2 * k + 1]) << 16);
                sb[b] = s;
                qb[b] = (float)s * (float)s + c1h;
                rb[b] = fcn * (float)(N * ss - s * s) + c2h;
            }
            for (int64_t a = 0; a < ni; a++) {
                const uint8_t *x = X + ii[a] * HW + (int64_t)r0 * W + c0;
                int32_t v[50], s = 0, ss = 0;
                uint32_t ap[25];
                for (int dr = 0; dr < 7; dr++)
                    for (int dc = 0; dc < 7; dc++) v[7 * dr + dc] = x[dr * W + dc];
                for (int e = 0; e < 49; e++) { s += v[e]; ss += v[e] * v[e]; }
                v[49] = 0;
                for (int k = 0; k < NP; k++)
                    ap[k] = (uint32_t)v[2 * k] | ((uint32_t)v[2 * k + 1] << 16);
                const float qa = (float)s * (float)s + c1h;
                const float ra = fcn * (float)(N * ss - s * s) + c2h;
                float *ac = acc + a * njp;
#ifdef HAVE_AVX2
                const __m256i vs = _mm256_set1_epi32(s);
                const __m256 vqa = _mm256_set1_ps(qa), vra = _mm256_set1_ps(ra);
                const ssim_consts sc = ssim_consts_of(twocn, fc1, fc2);
                int64_t b = 0;
                for (; b + 32 <= njp; b += 32) {
                    __m256i c0v = _mm256_setzero_si256(), c1v = c0v, c2v = c0v, c3v = c0v;
                    for (int k = 0; k < NP; k++) {
                        const __m256i av = _mm256_set1_epi32((int32_t)ap[k]);
                        const uint32_t *row = bp + k * njp + b;
                        c0v = _mm256_add_epi32(c0v, _mm256_madd_epi16(av, LDI(row)));
                        c1v = _mm256_add_epi32(c1v, _mm256_madd_epi16(av, LDI((row + 8))));
                        c2v = _mm256_add_epi32(c2v, _mm256_madd_epi16(av, LDI((row + 16))));
                        c3v = _mm256_add_epi32(c3v, _mm256_madd_epi16(av, LDI((row + 24))));
                    }
                    __m256i cv[4] = {c0v, c1v, c2v, c3v};
                    for (int u = 0; u < 4; u++) {
                        const int64_t o = b + 8 * u;
                        __m256i m = _mm256_madd_epi16(vs, LDI((sb + o)));
                        __m256 rc = ssim_rcp(_mm256_add_ps(vqa, _mm256_loadu_ps(qb + o)),
                                             _mm256_add_ps(vra, _mm256_loadu_ps(rb + o)), &sc);
                        _mm256_storeu_ps(ac + o, _mm256_fmadd_ps(
                            ssim_num(m, _mm256_sub_epi32(cv[u], m), &sc), rc,
                            _mm256_loadu_ps(ac + o)));
                    }
                }
                for (; b < njp; b += 8) {
                    __m256i cv = _mm256_setzero_si256();
                    for (int k = 0; k < NP; k++)
                        cv = _mm256_add_epi32(cv, _mm256_madd_epi16(
                                                  _mm256_set1_epi32((int32_t)ap[k]),
                                              LDI((bp + k * njp + b))));
                    __m256i m = _mm256_madd_epi16(vs, LDI((sb + b)));
                    __m256 rc = ssim_rcp(_mm256_add_ps(vqa, _mm256_loadu_ps(qb + b)),
                                         _mm256_add_ps(vra, _mm256_loadu_ps(rb + b)), &sc);
                    _mm256_storeu_ps(ac + b, _mm256_fmadd_ps(
                        ssim_num(m, _mm256_sub_epi32(cv, m), &sc), rc, _mm256_loadu_ps(ac + b)));
                }
#else
                for (int64_t b = 0; b < nj; b++) {
                    int32_t cross = 0;
                    for (int k = 0; k < NP; k++) {
                        const uint32_t bv = bp[k * njp + b];
                        cross += (int32_t)(ap[k] & 0xFFFF) * (int32_t)(bv & 0xFFFF)
                                 + (int32_t)(ap[k] >> 16) * (int32_t)(bv >> 16);
                    }
                    const int32_t m = s * sb[b];
                    const float a1 = 2.0f * (float)m + fc1;
                    const float a2 = twocn * (float)(cross - m) + fc2;
                    ac[b] += (a1 * a2) / ((qa + qb[b]) * (ra + rb[b]));
                }
#endif
            }
        }
    for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < nj; b++) out[a * nj + b] = (double)acc[a * njp + b] / (double)nwin;
    free(bp); free(sb); free(qb); free(rb); free(acc);
    return 0;
}
