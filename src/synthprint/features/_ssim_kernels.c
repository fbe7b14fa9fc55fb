/* Block SSIM kernels, compiled on first use by synthprint.features._native.
 *
 * ssim_*_block(X, ii, Y, jj, ...) writes out[a * nj + b] = mean SSIM of X[ii[a]] and Y[jj[b]]
 * for every a < ni, b < nj, exactly as skimage.metrics.structural_similarity computes it.
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
 * f64: any separable window (box or Gaussian), float64 images; filtered in float64, the
 *     per-pixel ratio in float32.
 * Each row's float32 partial sum is accumulated in float64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RESTRICT __restrict__

static void *xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size ? size : 1); }

int ssim_u8_block(const uint8_t *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                  const uint8_t *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                  int H, int W, int w, double cn, double C1, double C2,
                  double *RESTRICT out)
{
    const int Ho = H - w + 1, Wo = W - w + 1;
    const int32_t N = w * w;
    const int64_t nimg = ni + nj, npair = ni * nj, HW = (int64_t)H * W;
    /* per image: column sums of v and v^2 (W each); row maps S (int), Q, R (Wo each) */
    int32_t *cs1 = xcalloc(nimg * W, sizeof(int32_t));
    int32_t *cs2 = xcalloc(nimg * W, sizeof(int32_t));
    int32_t *S = xcalloc(nimg * Wo, sizeof(int32_t));
    float *Q = xcalloc(nimg * Wo, sizeof(float));
    float *R = xcalloc(nimg * Wo, sizeof(float));
    /* per pair: column sums of x*y (W) and the running total */
    int32_t *csp = xcalloc(npair * W, sizeof(int32_t));
    double *total = xcalloc(npair, sizeof(double));
    int32_t *hs = xcalloc(Wo, sizeof(int32_t)), *ss = xcalloc(Wo, sizeof(int32_t));
    const uint8_t **img = xcalloc(nimg, sizeof(uint8_t *));
    if (!cs1 || !cs2 || !S || !Q || !R || !csp || !total || !hs || !ss || !img) {
        free(cs1); free(cs2); free(S); free(Q); free(R); free(csp); free(total); free(hs);
        free(ss); free(img);
        return -1;
    }
    const double NN = (double)N * N;
    const float c1h = (float)(C1 * NN / 2), c2h = (float)(C2 * NN / 2);
    const float fc1 = (float)(C1 * NN), fc2 = (float)(C2 * NN), twocn = (float)(2.0 * cn);
    const float fcn = (float)cn;
    for (int64_t a = 0; a < ni; a++) img[a] = X + ii[a] * HW;
    for (int64_t b = 0; b < nj; b++) img[ni + b] = Y + jj[b] * HW;

    for (int64_t g = 0; g < nimg; g++) {
        int32_t *c1 = cs1 + g * W, *c2 = cs2 + g * W;
        const uint8_t *x = img[g];
        for (int t = 0; t < w; t++)
            for (int c = 0; c < W; c++) {
                int32_t v = x[t * W + c];
                c1[c] += v; c2[c] += v * v;
            }
    }
    for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < nj; b++) {
            int32_t *cp = csp + (a * nj + b) * W;
            const uint8_t *x = img[a], *y = img[ni + b];
            for (int t = 0; t < w; t++)
                for (int c = 0; c < W; c++)
                    cp[c] += (int32_t)x[t * W + c] * (int32_t)y[t * W + c];
        }

    for (int ro = 0; ro < Ho; ro++) {
        const int last = (ro + 1 == Ho);
        for (int64_t g = 0; g < nimg; g++) {
            int32_t *c1 = cs1 + g * W, *c2 = cs2 + g * W;
            int32_t *s = S + g * Wo;
            float *q = Q + g * Wo, *r = R + g * Wo;
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
            const int32_t *sx = S + a * Wo;
            const float *qx = Q + a * Wo, *rx = R + a * Wo;
            const uint8_t *x = img[a];
            for (int64_t b = 0; b < nj; b++) {
                const int64_t p = a * nj + b;
                int32_t *cp = csp + p * W;
                const int32_t *sy = S + (ni + b) * Wo;
                const float *qy = Q + (ni + b) * Wo, *ry = R + (ni + b) * Wo;
                for (int c = 0; c < Wo; c++) hs[c] = cp[c];
                for (int t = 1; t < w; t++)
                    for (int c = 0; c < Wo; c++) hs[c] += cp[c + t];
                float acc = 0.0f;
                for (int c = 0; c < Wo; c++) {
                    int32_t m = sx[c] * sy[c];
                    int32_t cov = N * hs[c] - m;
                    float a1 = 2.0f * (float)m + fc1;
                    float a2 = twocn * (float)cov + fc2;
                    float d = (qx[c] + qy[c]) * (rx[c] + ry[c]);
                    acc += (a1 * a2) / d;
                }
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
    for (int64_t p = 0; p < npair; p++) out[p] = total[p] / ((double)Ho * Wo);
    free(cs1); free(cs2); free(S); free(Q); free(R); free(csp); free(total); free(hs);
    free(ss); free(img);
    return 0;
}

int ssim_f64_block(const double *RESTRICT X, int64_t ni, const int64_t *RESTRICT ii,
                   const double *RESTRICT Y, int64_t nj, const int64_t *RESTRICT jj,
                   int H, int W, const double *RESTRICT wts, int K,
                   double cn, double C1, double C2, double *RESTRICT out)
{
    const int Ho = H - K + 1, Wo = W - K + 1;
    const int64_t nimg = ni + nj, npair = ni * nj, HW = (int64_t)H * W;
    double *vm = xcalloc(W, sizeof(double)), *vmm = xcalloc(W, sizeof(double));
    double *MU = xcalloc(nimg * Wo, sizeof(double)), *V = xcalloc(nimg * Wo, sizeof(double));
    double *vs = xcalloc(W, sizeof(double));
    double *total = xcalloc(npair, sizeof(double));
    const double **img = xcalloc(nimg, sizeof(double *));
    if (!vm || !vmm || !MU || !V || !vs || !total || !img) {
        free(vm); free(vmm); free(MU); free(V); free(vs); free(total); free(img);
        return -1;
    }
    for (int64_t a = 0; a < ni; a++) img[a] = X + ii[a] * HW;
    for (int64_t b = 0; b < nj; b++) img[ni + b] = Y + jj[b] * HW;

    for (int ro = 0; ro < Ho; ro++) {
        for (int64_t g = 0; g < nimg; g++) {
            const double *x = img[g] + (int64_t)ro * W;
            double *mu = MU + g * Wo, *v = V + g * Wo;
            for (int c = 0; c < W; c++) { vm[c] = 0.0; vmm[c] = 0.0; }
            for (int t = 0; t < K; t++) {
                const double wt = wts[t];
                const double *row = x + (int64_t)t * W;
                for (int c = 0; c < W; c++) {
                    vm[c] += wt * row[c];
                    vmm[c] += wt * (row[c] * row[c]);
                }
            }
            for (int c = 0; c < Wo; c++) {
                double m = 0.0, mm = 0.0;
                for (int t = 0; t < K; t++) { m += wts[t] * vm[c + t]; mm += wts[t] * vmm[c + t]; }
                mu[c] = m;
                v[c] = cn * (mm - m * m);
            }
        }
        for (int64_t a = 0; a < ni; a++) {
            const double *x = img[a] + (int64_t)ro * W;
            const double *mx = MU + a * Wo, *vx = V + a * Wo;
            for (int64_t b = 0; b < nj; b++) {
                const double *y = img[ni + b] + (int64_t)ro * W;
                const double *my = MU + (ni + b) * Wo, *vy = V + (ni + b) * Wo;
                for (int c = 0; c < W; c++) vs[c] = 0.0;
                for (int t = 0; t < K; t++) {
                    const double wt = wts[t];
                    const double *xr = x + (int64_t)t * W, *yr = y + (int64_t)t * W;
                    for (int c = 0; c < W; c++) vs[c] += wt * (xr[c] * yr[c]);
                }
                float acc = 0.0f;
                for (int c = 0; c < Wo; c++) {
                    double uxy = 0.0;
                    for (int t = 0; t < K; t++) uxy += wts[t] * vs[c + t];
                    const double ux = mx[c], uy = my[c];
                    const double vxy = cn * (uxy - ux * uy);
                    float a1 = (float)(2.0 * ux * uy + C1);
                    float a2 = (float)(2.0 * vxy + C2);
                    float b1 = (float)(ux * ux + uy * uy + C1);
                    float b2 = (float)(vx[c] + vy[c] + C2);
                    acc += (a1 * a2) / (b1 * b2);
                }
                total[a * nj + b] += acc;
            }
        }
    }
    for (int64_t p = 0; p < npair; p++) out[p] = total[p] / ((double)Ho * Wo);
    free(vm); free(vmm); free(MU); free(V); free(vs); free(total); free(img);
    return 0;
}
