/* Fused ReLU + cross-channel LRN + 3x3/2 max pooling on NHWC (channels_last) maps.
 *
 * Compiled on first use by sot/backbones/native.py (cc -O3 -march=native -fopenmp -shared, dropping
 * flags the compiler refuses) and called through ctypes; the PyTorch path in sot/backbones/vggm.py
 * computes the same numbers (to about 1e-6) and is used when no C compiler is available.
 *
 *   y_c = r_c * (k + a * sum_{j = c - lo}^{c + hi} r_j^2)^-beta,  r = max(x, 0)
 *   out[n, i, j, c] = max_{di, dj < 3} y[n, 2 i + di, 2 j + dj, c]     (no padding, floor)
 *
 * Input x: (n, h, w, c) float32 or bfloat16 (stored as uint16), contiguous.
 * Output: (n, (h - 3) / 2 + 1, (w - 3) / 2 + 1, c) float32, contiguous.
 * Each input row is read once, normalised into a row buffer and max-pooled along the row into a
 * ring of three pooled rows; an output row is the max of three of those.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__AVX512F__)
#include <immintrin.h>

/* 1/sqrt(x): the 14-bit estimate plus one Newton-Raphson step (about 1e-7 relative error),
 * several times cheaper than a vector sqrt and divide. */
static inline __m512 rsqrt_nr(__m512 x) {
    const __m512 y = _mm512_rsqrt14_ps(x);
    const __m512 hxyy = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), y), y);
    return _mm512_mul_ps(y, _mm512_sub_ps(_mm512_set1_ps(1.5f), hxyy));
}
#endif

static inline float bf16_to_f32(uint16_t v) {
    union { uint32_t u; float f; } t;
    t.u = ((uint32_t)v) << 16;
    return t.f;
}

/* ReLU + LRN of one input row (w pixels x c channels) into dst; sq (c + lo + hi) and acc (c)
 * are scratch rows, sq zero outside [lo, lo + c). */
static void lrn_row(const void *src, int is_bf16, long offset, int w, int c, int lo, int hi,
                    float a, float k, float beta, float *restrict sq, float *restrict acc,
                    float *restrict dst) {
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
#if defined(__AVX512F__)
            /* s^-3/4 = r1 * r1 * r2 with r1 = s^-1/2 and r2 = r1^-1/2 = s^1/4 */
            const __m512 vk = _mm512_set1_ps(k), va = _mm512_set1_ps(a);
            for (int ch = 0; ch < c; ch += 16) {
                const __mmask16 m = (c - ch >= 16) ? (__mmask16)0xFFFF : (__mmask16)((1u << (c - ch)) - 1u);
                const __m512 sv = _mm512_add_ps(vk, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(m, acc + ch)));
                const __m512 r1 = rsqrt_nr(sv);
                const __m512 f = _mm512_mul_ps(_mm512_mul_ps(r1, r1), rsqrt_nr(r1));
                _mm512_mask_storeu_ps(d + ch, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, d + ch), f));
            }
#else
            for (int ch = 0; ch < c; ++ch) {
                float s = k + a * acc[ch];
                d[ch] = d[ch] / sqrtf(s * sqrtf(s));
            }
#endif
        } else {
            for (int ch = 0; ch < c; ++ch) d[ch] = d[ch] * powf(k + a * acc[ch], -beta);
        }
    }
}

/* Images [n0, n1) of one thread. Returns 0, or -1 when out of memory. */
static int pool_images(const void *x, int is_bf16, float *out, int n0, int n1, int h, int w, int c,
                       int lo, int hi, float a, float k, float beta) {
    const int ho = (h - 3) / 2 + 1, wo = (w - 3) / 2 + 1;
    const long row = (long)w * c, prow = (long)wo * c;
    /* one normalised input row, a ring of three horizontally pooled rows, two scratch rows */
    float *buf = (float *)malloc(sizeof(float) * (size_t)(row + 3 * prow + 2 * c + lo + hi));
    if (!buf) return -1;
    float *norm = buf, *ring = buf + row, *sq = ring + 3 * prow, *acc = sq + c + lo + hi;
    for (int t = 0; t < c + lo + hi; ++t) sq[t] = 0.f;
    for (int n = n0; n < n1; ++n) {
        const long base = (long)n * h * row;
        float *o = out + (long)n * ho * prow;
        int have = -1; /* last input row pooled into the ring (row r lives at r % 3) */
        for (int i = 0; i < ho; ++i) {
            for (int r = have + 1; r <= 2 * i + 2; ++r) {  /* rows 2i .. 2i+2; 2i is pooled already for i > 0 */
                lrn_row(x, is_bf16, base + (long)r * row, w, c, lo, hi, a, k, beta, sq, acc, norm);
                float *hp = ring + (long)(r % 3) * prow;
                for (int j = 0; j < wo; ++j) {  /* 3-wide, stride-2 max along the row */
                    const float *p0 = norm + (long)(2 * j) * c, *p1 = p0 + c, *p2 = p1 + c;
                    float *dst = hp + (long)j * c;
                    for (int ch = 0; ch < c; ++ch) {
                        float m = p0[ch] > p1[ch] ? p0[ch] : p1[ch];
                        dst[ch] = p2[ch] > m ? p2[ch] : m;
                    }
                }
                have = r;
            }
            const float *r0 = ring + (long)((2 * i) % 3) * prow;
            const float *r1 = ring + (long)((2 * i + 1) % 3) * prow;
            const float *r2 = ring + (long)((2 * i + 2) % 3) * prow;
            float *dst = o + (long)i * prow;
            for (long e = 0; e < prow; ++e) {  /* 3-high max across the pooled rows */
                float m = r0[e] > r1[e] ? r0[e] : r1[e];
                dst[e] = r2[e] > m ? r2[e] : m;
            }
        }
    }
    free(buf);
    return 0;
}

/* Images [n0, n1), split over the OpenMP threads when built with -fopenmp. Loaded next to
 * PyTorch, libgomp.so.1 resolves to the runtime PyTorch already uses, so this runs on PyTorch's
 * own worker threads (and their count, torch.set_num_threads). Returns 0, or -1 when out of memory. */
int relu_lrn_maxpool(const void *x, int is_bf16, float *out, int n0, int n1, int h, int w, int c,
                     int lo, int hi, float a, float k, float beta) {
    int status = 0;
#if defined(_OPENMP)
    #pragma omp parallel reduction(| : status)
    {
        const int nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int per = (n1 - n0 + nt - 1) / nt;
        const int s = n0 + t * per, e = s + per < n1 ? s + per : n1;
        if (s < e) status |= pool_images(x, is_bf16, out, s, e, h, w, c, lo, hi, a, k, beta);
    }
#else
    status = pool_images(x, is_bf16, out, n0, n1, h, w, c, lo, hi, a, k, beta);
#endif
    return status ? -1 : 0;
}
