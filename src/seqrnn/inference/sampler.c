/* Sampling a recurrent character model one character at a time, for a batch of streams.
 *
 * A step of the lecture's model is about 0.2 MFLOP: through torch, the cost of a character is
 * the dozen operator calls around that arithmetic, not the arithmetic. Here one call generates a
 * whole chunk of characters. Python reads the prime with torch (so the first logits and state are
 * torch's own) and draws the random numbers with torch's generators; this file only steps and
 * chooses. Built and loaded by seqrnn.inference.native; the weights are laid out by
 * seqrnn.inference.stepper (torch's gate order: LSTM i, f, g, o; GRU r, z, n).
 *
 * Choosing reproduces torch.multinomial(probs, 1): it draws q ~ Exp(1) per entry and takes
 * argmax(probs / q) (the first on ties), which is why the caller passes exponential noise.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { CELL_RNN = 0, CELL_GRU = 1, CELL_LSTM = 2 };

typedef struct {
    int32_t cell, layers, hidden, vocab, batch;
    const float *x_table;        /* (V, G): layer 0's input projection of each character + b_ih */
    const float *const *w_ih;    /* per layer, (H, G) transposed; entry 0 unused */
    const float *const *b_ih;    /* per layer, (G); entry 0 unused (inside x_table) */
    const float *const *w_hh;    /* per layer, (H, G) transposed */
    const float *const *b_hh;    /* per layer, (G) */
    const float *w_out;          /* (H, V) transposed */
    const float *b_out;          /* (V) */
} Model;

typedef struct {
    int32_t greedy, top_k;
    float temperature, top_p;
} Choice;

static int gates_per_unit(int32_t cell) { return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1; }

/* exp(x) within a few ulp (Cephes' expf), branch-free and call-free so that the loops of the
 * cells compile to vector instructions; libm's expf and tanhf, one call per unit and gate,
 * were most of a character's time. */
static inline float exp_(float x) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    const float round = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float k = (x * 1.44269504088896341f + round) - round;
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + exp_(-x)); }

/* tanh(x) = 1 - 2 / (exp(2x) + 1), and its series near 0, where that difference cancels. */
static inline float tanh_(float x) {
    float x2 = x * x;
    float series = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
    float wide = 1.0f - 2.0f / (exp_(2.0f * x) + 1.0f);
    return x2 < 0.0039f ? series : wide;
}

/* Vectors of 8 floats that may sit anywhere in memory: gcc and clang lower them to whatever
 * the CPU has (AVX2, AVX-512, NEON). */
typedef float vec __attribute__((vector_size(32), aligned(4)));
enum { LANES = 8, VECS = 4, BLOCK = LANES * VECS, ROWS = 4 };

/* out[r] (n) = bias + sum_j x[r][j] * w[j, :] for R rows. Each block of BLOCK outputs is summed
 * in registers over j, in order, so every row gets the same sums whatever R is; R rows share
 * each load of the weights, which is what makes a batch of streams cheaper per character. */
static inline __attribute__((always_inline)) void affine_block(
    int R, float *const *out, const float *bias, const float *const *x, const float *w, int in,
    int n) {
    int i0 = 0;
    for (; i0 + BLOCK <= n; i0 += BLOCK) {
        vec acc[ROWS][VECS];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < VECS; v++) acc[r][v] = *(const vec *)(bias + i0 + v * LANES);
        for (int j = 0; j < in; j++) {
            const float *row = w + (size_t)j * n + i0;
            vec wv[VECS];
            for (int v = 0; v < VECS; v++) wv[v] = *(const vec *)(row + v * LANES);
            for (int r = 0; r < R; r++) {
                const float xj = x[r][j];
                for (int v = 0; v < VECS; v++) acc[r][v] += xj * wv[v];
            }
        }
        for (int r = 0; r < R; r++)
            for (int v = 0; v < VECS; v++) *(vec *)(out[r] + i0 + v * LANES) = acc[r][v];
    }
    for (int r = 0; r < R; r++)  /* the last n % BLOCK outputs, one at a time, same order */
        for (int i = i0; i < n; i++) {
            float sum = bias[i];
            for (int j = 0; j < in; j++) sum += x[r][j] * w[(size_t)j * n + i];
            out[r][i] = sum;
        }
}

/* out (rows, n) = bias + x (rows, in; rows x_stride apart) @ w (in, n). */
static void affine(float *out, const float *bias, const float *x, size_t x_stride,
                   const float *w, int in, int n, int rows) {
    int b = 0;
    for (; b + ROWS <= rows; b += ROWS) {
        float *o[ROWS];
        const float *xs[ROWS];
        for (int r = 0; r < ROWS; r++) {
            o[r] = out + (size_t)(b + r) * n;
            xs[r] = x + (size_t)(b + r) * x_stride;
        }
        affine_block(ROWS, o, bias, xs, w, in, n);
    }
    for (; b < rows; b++) {
        float *o = out + (size_t)b * n;
        const float *xs = x + (size_t)b * x_stride;
        affine_block(1, &o, bias, &xs, w, in, n);
    }
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* The k-th largest of v (n), k <= n, by insertion into a descending list of k. */
static float kth_largest(const float *v, int n, int k, float *top) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        float x = v[i];
        if (count == k && !(x > top[k - 1])) continue;
        int at = count < k ? count++ : k - 1;
        while (at > 0 && top[at - 1] < x) { top[at] = top[at - 1]; at--; }
        top[at] = x;
    }
    return top[k - 1];
}

/* order (n) sorted by p descending, the lower index first among equals (as torch.sort with
 * stable=True): an insertion sort, with no state outside the call, so that concurrent calls
 * from several threads (ctypes releases the GIL) cannot disturb each other. */
static void sort_by_probability(int *order, const float *p, int n) {
    for (int i = 0; i < n; i++) {
        int at = i;
        while (at > 0 && p[order[at - 1]] < p[i]) { order[at] = order[at - 1]; at--; }
        order[at] = i;
    }
}

/* One id from logits (V): what seqrnn.models.charlm.choose_next returns for the same noise. */
static int choose(const float *logits, const float *noise, const Choice *c, int n, float *p,
                  float *top, int *order) {
    if (c->greedy) return argmax(logits, n);
    float high = -INFINITY;
    for (int i = 0; i < n; i++) {
        p[i] = logits[i] / c->temperature;
        if (p[i] > high) high = p[i];
    }
    if (!isfinite(high)) return argmax(logits, n); /* so cold that it overflows: greedy */
    float floor_ = -INFINITY;
    if (c->top_k > 0 && c->top_k < n) floor_ = kth_largest(p, n, c->top_k, top);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        p[i] = p[i] >= floor_ ? expf(p[i] - high) : 0.0f;
        sum += p[i];
    }
    const float scale = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) p[i] *= scale;
    if (c->top_p < 1.0f) { /* keep the most likely until the mass before them reaches top_p */
        sort_by_probability(order, p, n);
        double before = 0.0;
        for (int r = 0; r < n; r++) {
            float mass = (float)before;
            before += p[order[r]];
            if (!(mass < c->top_p)) p[order[r]] = 0.0f;
        }
    }
    int best = 0;
    float best_ratio = -1.0f;
    for (int i = 0; i < n; i++) {
        float ratio = p[i] / noise[i];
        if (ratio > best_ratio) { best_ratio = ratio; best = i; }
    }
    return best;
}

/* Feed ids (B) to the model: h, c (L, B, H) and logits (B, V) become those after them.
 * xg and hg hold (B, G) each. */
static void step(const Model *m, const int32_t *ids, float *h, float *c, float *logits,
                 float *xg, float *hg) {
    const int H = m->hidden, G = gates_per_unit(m->cell) * H, B = m->batch;
    for (int layer = 0; layer < m->layers; layer++) {
        float *h_l = h + (size_t)layer * B * H, *c_l = c + (size_t)layer * B * H;
        if (layer == 0)
            for (int b = 0; b < B; b++)
                memcpy(xg + (size_t)b * G, m->x_table + (size_t)ids[b] * G,
                       sizeof(float) * (size_t)G);
        else  /* the layer below has already stepped: its new h is this layer's input */
            affine(xg, m->b_ih[layer], h_l - (size_t)B * H, H, m->w_ih[layer], H, G, B);
        affine(hg, m->b_hh[layer], h_l, H, m->w_hh[layer], H, G, B);
        for (int b = 0; b < B; b++) {
            float *restrict hb = h_l + (size_t)b * H, *restrict cb = c_l + (size_t)b * H;
            const float *restrict x = xg + (size_t)b * G, *restrict r = hg + (size_t)b * G;
            if (m->cell == CELL_LSTM) {
                for (int u = 0; u < H; u++) {
                    float i = sigmoid(x[u] + r[u]), f = sigmoid(x[H + u] + r[H + u]);
                    float g = tanh_(x[2 * H + u] + r[2 * H + u]);
                    float o = sigmoid(x[3 * H + u] + r[3 * H + u]);
                    cb[u] = f * cb[u] + i * g;
                    hb[u] = o * tanh_(cb[u]);
                }
            } else if (m->cell == CELL_GRU) {
                for (int u = 0; u < H; u++) {
                    float rg = sigmoid(x[u] + r[u]), z = sigmoid(x[H + u] + r[H + u]);
                    float n = tanh_(x[2 * H + u] + rg * r[2 * H + u]);
                    hb[u] = (1.0f - z) * n + z * hb[u];
                }
            } else {
                for (int u = 0; u < H; u++) hb[u] = tanh_(x[u] + r[u]);
            }
        }
    }
    affine(logits, m->b_out, h + (size_t)(m->layers - 1) * B * H, H, m->w_out, H, m->vocab, B);
}

/* Choose and feed `steps` characters per stream. noise (B, steps, V) is ignored when greedy;
 * out (B, steps). On return h, c and logits are those after the last character chosen.
 * Returns 0, or -1 when scratch memory cannot be had. */
int seqrnn_generate(const Model *m, const Choice *choice, float *h, float *c, float *logits,
                    const float *noise, int32_t steps, int32_t *out) {
    const int V = m->vocab, B = m->batch, G = gates_per_unit(m->cell) * m->hidden;
    float *scratch = malloc(sizeof(float) * (2 * (size_t)B * G + 2 * (size_t)V));
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)B);
    int *order = malloc(sizeof(int) * (size_t)V);
    if (!scratch || !ids || !order) {
        free(scratch); free(ids); free(order);
        return -1;
    }
    float *xg = scratch, *hg = xg + (size_t)B * G, *p = hg + (size_t)B * G, *top = p + V;
    for (int t = 0; t < steps; t++) {
        for (int b = 0; b < B; b++) {
            const float *q = choice->greedy ? NULL : noise + ((size_t)b * steps + t) * V;
            ids[b] = choose(logits + (size_t)b * V, q, choice, V, p, top, order);
            out[(size_t)b * steps + t] = ids[b];
        }
        step(m, ids, h, c, logits, xg, hg);
    }
    free(scratch); free(ids); free(order);
    return 0;
}
