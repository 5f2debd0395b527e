/* Fused ReLU + cross-channel LRN + 3x3/2 max pooling on NHWC (channels_last) maps.
 *
 * Compiled on first use by sot/backbones/native.py (cc -O3 -march=native -shared) and called
 * through ctypes; the pure-PyTorch path in sot/backbones/vggm.py computes the same numbers and is
 * used when no C compiler is available.
 *
 *   y_c = r_c * (k + a * sum_{j = c - lo}^{c + hi} r_j^2)^-beta,  r = max(x, 0)
 *   out[n, i, j, c] = max_{di, dj < 3} y[n, 2 i + di, 2 j + dj, c]     (no padding, floor)
 *
 * Input x: (n, h, w, c) float32 or bfloat16 (stored as uint16), contiguous.
 * Output: (n, (h - 3) / 2 + 1, (w - 3) / 2 + 1, c) float32, contiguous.
 * One output row needs three input rows; each input row is normalised once into a small ring of
 * row buffers, so every input element is read once and every output element written once.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline float bf16_to_f32(uint16_t v) {
    union { uint32_t u; float f; } t;
    t.u = ((uint32_t)v) << 16;
    return t.f;
}

/* ReLU + LRN of one input row (w pixels x c channels) into dst; sq (c + lo + hi) and acc (c)
 * are scratch rows, sq zero outside [lo, lo + c). */
static void lrn_row(const void *src, int is_bf16, long offset, int w, int c, int lo, int hi,
                    float a, float k, float beta, float *sq, float *acc, float *dst) {
    const int win = lo + hi + 1;
    for (int p = 0; p < w; ++p) {
        float *d = dst + (long)p * c;
        if (is_bf16) {
            const uint16_t *s = (const uint16_t *)src + offset + (long)p * c;
            for (int ch = 0; ch < c; ++ch) {
                float v = bf16_to_f32(s[ch]);
                d[ch] = v > 0.f ? v : 0.f;
            }
        } else {
            const float *s = (const float *)src + offset + (long)p * c;
            for (int ch = 0; ch < c; ++ch) {
                float v = s[ch];
                d[ch] = v > 0.f ? v : 0.f;
            }
        }
        float *q = sq + lo;
        for (int ch = 0; ch < c; ++ch) q[ch] = d[ch] * d[ch];
        for (int ch = 0; ch < c; ++ch) acc[ch] = sq[ch];
        for (int t = 1; t < win; ++t) {
            const float *st = sq + t;
            for (int ch = 0; ch < c; ++ch) acc[ch] += st[ch];
        }
        if (beta == 0.75f) {
            for (int ch = 0; ch < c; ++ch) {
                float s = k + a * acc[ch];
                d[ch] = d[ch] / sqrtf(s * sqrtf(s));
            }
        } else {
            for (int ch = 0; ch < c; ++ch) d[ch] = d[ch] * powf(k + a * acc[ch], -beta);
        }
    }
}

/* Process images [n0, n1). Returns 0, or -1 when out of memory. */
int relu_lrn_maxpool(const void *x, int is_bf16, float *out, int n0, int n1, int h, int w, int c,
                     int lo, int hi, float a, float k, float beta) {
    const int ho = (h - 3) / 2 + 1, wo = (w - 3) / 2 + 1;
    const long row = (long)w * c;
    float *ring = (float *)malloc(sizeof(float) * (size_t)(3 * row + 2 * c + lo + hi));
    if (!ring) return -1;
    float *sq = ring + 3 * row, *acc = sq + c + lo + hi;
    for (int t = 0; t < c + lo + hi; ++t) sq[t] = 0.f;
    for (int n = n0; n < n1; ++n) {
        const long base = (long)n * h * row;
        float *o = out + (long)n * ho * wo * c;
        int have = -1; /* last input row normalised into the ring (row r lives at r % 3) */
        for (int i = 0; i < ho; ++i) {
            for (int r = 2 * i; r <= 2 * i + 2; ++r) {
                if (r > have) {
                    lrn_row(x, is_bf16, base + (long)r * row, w, c, lo, hi, a, k, beta, sq, acc,
                            ring + (long)(r % 3) * row);
                    have = r;
                }
            }
            const float *r0 = ring + (long)((2 * i) % 3) * row;
            const float *r1 = ring + (long)((2 * i + 1) % 3) * row;
            const float *r2 = ring + (long)((2 * i + 2) % 3) * row;
            for (int j = 0; j < wo; ++j) {
                float *dst = o + ((long)i * wo + j) * c;
                const long p = (long)(2 * j) * c;
                for (int ch = 0; ch < c; ++ch) {
                    float m = r0[p + ch];
                    float v;
                    v = r0[p + c + ch]; m = v > m ? v : m;
                    v = r0[p + 2 * c + ch]; m = v > m ? v : m;
                    v = r1[p + ch]; m = v > m ? v : m;
                    v = r1[p + c + ch]; m = v > m ? v : m;
                    v = r1[p + 2 * c + ch]; m = v > m ? v : m;
                    v = r2[p + ch]; m = v > m ? v : m;
                    v = r2[p + c + ch]; m = v > m ? v : m;
                    v = r2[p + 2 * c + ch]; m = v > m ? v : m;
                    dst[ch] = m;
                }
            }
        }
    }
    free(ring);
    return 0;
}
