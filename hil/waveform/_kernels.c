/* Single-pass kernels of the streaming checks: several statistics of every sample, and level searches.
 *
 * numpy computes one statistic per pass, so a check needing min, max and two sums reads each sample
 * four times; these read it once, in blocks of BLOCK samples reduced with SIMD, the block results
 * added in double. A block of float32 samples is summed in float32, at full SIMD width, and again in
 * double where its squares overflow float32 (from 1.8e19) or lose digits in it (below 1e-16). Thresholds
 * are compared in the samples' own type, as numpy compares an array with a Python float.
 *
 * A check must not pass on a sample it cannot judge, yet a separate pass to look for NaN and inf
 * would read every sample twice. So each kernel reports a sign of one as it goes: its sum is not
 * finite (the sum of x - x in the searches), and only then does the caller count them exactly
 * (nonfinite). The GIL is released while a kernel runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* AVX-512 where the CPU has it: with half the instructions a sample, ripple's pass (four running
 * results) went from 21 to 29 GB/s on two threads. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

#define BLOCK 1024
/* Bytes ahead of the pass that a pass asks the cache for. A capture larger than the caches streams
 * from memory, and the hardware's prefetcher alone kept too few reads in flight for the passes that
 * do more than compare: on two threads the step pass read 33 GB/s without, 37 with. */
#define PREFETCH_AHEAD 2048

static inline void prefetch_ahead(const void *at, size_t bytes) {
    for (size_t c = 0; c < bytes; c += 64) __builtin_prefetch((const char *)at + PREFETCH_AHEAD + c);
}
#define LANES(T) (256 / (int)sizeof(T)) /* see Stats */

/* A growing array of 8-byte results (int64 or double), in Python's raw allocator: it may be called
 * without the GIL, and tracemalloc sees it. The item size is fixed so that a push is a plain store:
 * noise can make a crossing, three pushes, every four samples. */
#define ITEM 8
typedef struct {
    char *data;
    Py_ssize_t len, cap;
    Py_ssize_t room; /* where its first growth goes at once; beyond, and without, it doubles */
} Grow;

static int grow_more(Grow *g) {
    Py_ssize_t cap = g->cap ? 2 * g->cap : 64;
    if (cap < g->room) cap = g->room;
    char *data = PyMem_RawRealloc(g->data, (size_t)cap * ITEM);
    if (!data) return -1;
    g->data = data;
    g->cap = cap;
    return 0;
}

/* Room for `cap` items in an empty Grow, at once. A span of noise found its 65 000 crossings in
 * 2.5 ms growing from 64 items, half of it page faults and copies as each array doubled; with room
 * for up to RESERVE_MAX of them, in 1.0 ms (float32): the allocator hands the same room to the next
 * span. Memory taken and never written costs nothing, but tracemalloc counts it, and a check must not
 * look as if it held a copy of its channel: past RESERVE_MAX the arrays double. A scan takes
 * RESERVE_FIRST at the start (what a clean span needs) and the rest at its first growth: two threads
 * each holding the whole room up front looked as if the threads added memory. */
#define RESERVE_MAX (1 << 15)
#define RESERVE_FIRST (1 << 9)
static int grow_room(Grow *g, Py_ssize_t cap) {
    g->data = PyMem_RawMalloc((size_t)cap * ITEM);
    if (!g->data) return -1;
    g->cap = cap;
    return 0;
}

/* Room for `extra` more items. */
static int grow_reserve(Grow *g, Py_ssize_t extra) {
    while (g->cap - g->len < extra)
        if (grow_more(g)) return -1;
    return 0;
}

static inline int grow_push(Grow *g, const void *value) {
    if (g->len == g->cap && grow_more(g)) return -1;
    memcpy(g->data + (size_t)g->len * ITEM, value, ITEM);
    g->len++;
    return 0;
}

/* Statistics of x[0..n) - ref, kept per lane: LANES(T) running results, folded in a tree at the end
 * (no sum is reassociated beyond that); blocks are added up in double by the callers. Four vectors'
 * worth of lanes (of 512 bits) because one running min, max or sum per vector is a chain of
 * dependent instructions through the block: with it, the envelope screen read 15 GB/s on one
 * thread where numpy's max reads 19, and a fold one lane after another cost a fifth of a block's
 * time. */
typedef struct {
    double lo, hi, sum, sumsq;
} Stats;

#define DEFINE_BLOCK(T, NAME)                                                                  \
    static inline __attribute__((always_inline)) Stats NAME(const T *x, Py_ssize_t n, T ref) { \
        T los[LANES(T)], his[LANES(T)], s1[LANES(T)], s2[LANES(T)];                            \
        for (int q = 0; q < LANES(T); q++) {                                                   \
            los[q] = (T)INFINITY;                                                              \
            his[q] = (T)-INFINITY;                                                             \
            s1[q] = s2[q] = 0;                                                                 \
        }                                                                                      \
        Py_ssize_t whole = n - n % LANES(T);                                                   \
        for (Py_ssize_t j = 0; j < whole; j += LANES(T)) {                                     \
            prefetch_ahead(x + j, sizeof(T) * LANES(T));                                       \
            for (int q = 0; q < LANES(T); q++) {                                               \
                T v = x[j + q] - ref;                                                          \
                los[q] = v < los[q] ? v : los[q];                                              \
                his[q] = v > his[q] ? v : his[q];                                              \
                s1[q] += v;                                                                    \
                s2[q] += v * v;                                                                \
            }                                                                                  \
        }                                                                                      \
        for (Py_ssize_t j = whole; j < n; j++) {                                               \
            T v = x[j] - ref;                                                                  \
            los[0] = v < los[0] ? v : los[0];                                                  \
            his[0] = v > his[0] ? v : his[0];                                                  \
            s1[0] += v;                                                                        \
            s2[0] += v * v;                                                                    \
        }                                                                                      \
        for (int w = LANES(T) / 2; w > 0; w /= 2)                                              \
            for (int q = 0; q < w; q++) {                                                      \
                los[q] = los[q + w] < los[q] ? los[q + w] : los[q];                            \
                his[q] = his[q + w] > his[q] ? his[q + w] : his[q];                            \
                s1[q] += s1[q + w];                                                            \
                s2[q] += s2[q + w];                                                            \
            }                                                                                  \
        T lo = los[0], hi = his[0], a1 = s1[0], a2 = s2[0];                                    \
        int lost = !isfinite(a2) || (a2 < 1e-30 && (lo != 0 || hi != 0));                      \
        if (sizeof(T) == sizeof(float) && lost && isfinite(lo) && isfinite(hi)) {              \
            double w1 = 0, w2 = 0;                                                             \
            for (Py_ssize_t j = 0; j < n; j++) {                                               \
                double v = x[j] - ref;                                                         \
                w1 += v;                                                                       \
                w2 += v * v;                                                                   \
            }                                                                                  \
            return (Stats){lo, hi, w1, w2};                                                    \
        }                                                                                      \
        return (Stats){lo, hi, a1, a2};                                                        \
    }
DEFINE_BLOCK(float, block_f32)
DEFINE_BLOCK(double, block_f64)

/* The length of the block of `size` samples from i, the last one short. */
static inline Py_ssize_t block_len(Py_ssize_t i, Py_ssize_t n, Py_ssize_t size) {
    return n - i < size ? n - i : size;
}

/* Min and max, and the sum of x - x (0 unless a sample is not finite): the envelope screen, the step
 * metrics' pass and the crossing scan's search for its state. In LANES(T) lanes, as the block above. */
#define DEFINE_SPREAD(T, NAME)                                                          \
    static inline __attribute__((always_inline)) Stats NAME(const T *x, Py_ssize_t n) { \
        T lo[LANES(T)], hi[LANES(T)], zero[LANES(T)];                                   \
        for (int q = 0; q < LANES(T); q++) {                                            \
            lo[q] = (T)INFINITY;                                                        \
            hi[q] = (T)-INFINITY;                                                       \
            zero[q] = 0;                                                                \
        }                                                                               \
        Py_ssize_t whole = n - n % LANES(T);                                            \
        for (Py_ssize_t j = 0; j < whole; j += LANES(T)) {                              \
            prefetch_ahead(x + j, sizeof(T) * LANES(T));                                \
            for (int q = 0; q < LANES(T); q++) {                                        \
                T v = x[j + q];                                                         \
                lo[q] = v < lo[q] ? v : lo[q];                                          \
                hi[q] = v > hi[q] ? v : hi[q];                                          \
                zero[q] += v - v;                                                       \
            }                                                                           \
        }                                                                               \
        for (Py_ssize_t j = whole; j < n; j++) {                                        \
            T v = x[j];                                                                 \
            lo[0] = v < lo[0] ? v : lo[0];                                              \
            hi[0] = v > hi[0] ? v : hi[0];                                              \
            zero[0] += v - v;                                                           \
        }                                                                               \
        for (int w = LANES(T) / 2; w > 0; w /= 2)                                       \
            for (int q = 0; q < w; q++) {                                               \
                lo[q] = lo[q + w] < lo[q] ? lo[q + w] : lo[q];                          \
                hi[q] = hi[q + w] > hi[q] ? hi[q + w] : hi[q];                          \
                zero[q] += zero[q + w];                                                 \
            }                                                                           \
        return (Stats){lo[0], hi[0], zero[0], 0.0};                                     \
    }
DEFINE_SPREAD(float, spread_f32)
DEFINE_SPREAD(double, spread_f64)

#define DEFINE_MINMAX(T, NAME, SPREADFN)                                     \
    MULTIVERSION static void NAME(const T *x, Py_ssize_t n, double out[3]) { \
        Stats s = SPREADFN(x, n);                                            \
        out[0] = s.lo;                                                       \
        out[1] = s.hi;                                                       \
        out[2] = s.sum;                                                      \
    }
DEFINE_MINMAX(float, minmax_f32, spread_f32)
DEFINE_MINMAX(double, minmax_f64, spread_f64)

/* Ripple: min, max, sum and sum of squares of x - ref. */
#define DEFINE_MOMENTS(T, NAME, BLOCKFN)                                                  \
    MULTIVERSION static Stats NAME(const T *x, Py_ssize_t n, T ref) {                     \
        Stats all = {INFINITY, -INFINITY, 0.0, 0.0};                                      \
        for (Py_ssize_t i = 0; i < n; i += BLOCK) {                                       \
            Stats b = BLOCKFN(x + i, block_len(i, n, BLOCK), ref);                        \
            all.lo = b.lo < all.lo ? b.lo : all.lo;                                       \
            all.hi = b.hi > all.hi ? b.hi : all.hi;                                       \
            all.sum += b.sum;                                                             \
            all.sumsq += b.sumsq;                                                         \
        }                                                                                 \
        return all;                                                                       \
    }
DEFINE_MOMENTS(float, moments_f32, block_f32)
DEFINE_MOMENTS(double, moments_f64, block_f64)

/* Runs of squares up to this long are summed with a fixed count of additions. */
#define SHORT_RUN 8

/* KEEP + SHORT_RUN - len: 1 for the first len of SHORT_RUN items, 0 for the rest. */
_Static_assert(SHORT_RUN == 8, "KEEP holds SHORT_RUN ones and SHORT_RUN zeros");
static const double KEEP[2 * SHORT_RUN] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};

/* s + sq[0] + ... + sq[len - 1], added in that order; sq[len..SHORT_RUN) must be readable. */
static inline double add_run(double s, const double *sq, Py_ssize_t len) {
    if (len <= SHORT_RUN) {
        /* multiplied by 1 or 0 (exact), where a conditional would be compiled to a branch; the
         * factors are read from a table: made as (double)(q < len), each conversion also kept the
         * rest of its register from the last one, a chain through every crossing of a block (a span
         * of noise scanned in 4.5 ms, with the table in 2.9) */
        const double *keep = KEEP + SHORT_RUN - len;
        for (Py_ssize_t q = 0; q < SHORT_RUN; q++) s += sq[q] * keep[q];
        return s;
    }
    for (Py_ssize_t q = 0; q < len; q++) s += sq[q];
    return s;
}

/* PLACES[b]: the places of b's set bits, lowest first (then zeros); SET_BITS[b]: how many. Made by
 * make_places when the module loads. */
static uint8_t PLACES[256][8], SET_BITS[256];

static void make_places(void) {
    for (int b = 0; b < 256; b++)
        for (int q = 0; q < 8; q++)
            if (b >> q & 1) PLACES[b][SET_BITS[b]++] = (uint8_t)q;
}

/* STATE: whether the scan is armed at x[start], as x[:start] left it. Only a sample below arm_at
 * (armed after it) or at or above fire_at (disarmed after it, fired or not) decides it; a sample
 * between them, or NaN, leaves the state as it was. So the last deciding sample before start does,
 * found block by block backwards (a block's min and max say whether it holds one); none: disarmed,
 * as a scan from the channel's first sample starts. */
#define DEFINE_STATE(T, NAME, BLOCKFN)                                                            \
    MULTIVERSION static int NAME(const T *x, Py_ssize_t start, T fire_at, T arm_at) {             \
        for (Py_ssize_t end = start; end > 0; end -= BLOCK) {                                     \
            Py_ssize_t from = end > BLOCK ? end - BLOCK : 0;                                      \
            Stats b = BLOCKFN(x + from, end - from);                                              \
            if (!(b.lo < arm_at || b.hi >= fire_at)) continue;                                    \
            for (Py_ssize_t j = end - 1; j >= from; j--) {                                        \
                if (x[j] < arm_at) return 1;                                                      \
                if (x[j] >= fire_at) return 0;                                                    \
            }                                                                                     \
        }                                                                                         \
        return 0;                                                                                 \
    }
DEFINE_STATE(float, cycles_f32_state, spread_f32)
DEFINE_STATE(double, cycles_f64_state, spread_f64)

/* Per-cycle RMS over x[start:stop]: rising crossings with hysteresis, where the line between the
 * firing sample and the one before it meets `level` (as a fractional sample index), and the sum of
 * squares of each complete cycle between them. Disarmed, a sample below arm_at arms; armed, a sample
 * at or above fire_at fires and starts a cycle. The span starts in the state x[:start] left (see
 * STATE), so spans of one channel are scanned apart and joined: *head is the sum of squares before
 * the span's first crossing (the end of a cycle an earlier span opened), *tail the sum after its last
 * (or of the whole span, with no crossing). A block where the state cannot change is summed whole;
 * the others sample by sample, and in the same order whichever way their crossings are found (see
 * CROSSINGS). */
#define DEFINE_CYCLES(T, NAME, BLOCKFN)                                                           \
    static inline int NAME##_push(const T *x, Py_ssize_t j, double level, double open,            \
                                  Grow *crossings, Grow *at_level, Grow *sums, double *head) {    \
        int64_t at = j;                                                                           \
        double x0 = x[j - 1], x1 = x[j];                                                          \
        double where = (double)(j - 1) + (x1 == x0 ? 1.0 : (level - x0) / (x1 - x0));             \
        if (crossings->len == 0)                                                                  \
            *head = open;                                                                         \
        else if (grow_push(sums, &open))                                                          \
            return -1;                                                                            \
        return grow_push(crossings, &at) || grow_push(at_level, &where) ? -1 : 0;                 \
    }                                                                                             \
    MULTIVERSION static int NAME(const T *x, Py_ssize_t start, Py_ssize_t stop, T fire_at,        \
                                 T arm_at, double level, Grow *crossings, Grow *at_level,         \
                                 Grow *sums, double *total, double *head, double *tail) {         \
        int armed = NAME##_state(x, start, fire_at, arm_at);                                      \
        double open = 0.0, all = 0.0;                                                             \
        uint16_t fires[BLOCK + 8];                                                                \
        uint8_t flags[BLOCK + 8];                                                                 \
        double squares[BLOCK + SHORT_RUN];                                                        \
        for (Py_ssize_t i = start; i < stop; i += BLOCK) {                                        \
            Py_ssize_t m = block_len(i, stop, BLOCK);                                             \
            Stats b = BLOCKFN(x + i, m, 0);                                                       \
            all += b.sumsq;                                                                       \
            if (armed ? !(b.hi >= fire_at) : !(b.lo < arm_at)) {                                  \
                open += b.sumsq;                                                                  \
                continue;                                                                         \
            }                                                                                     \
            if (fire_at == arm_at && isfinite(b.sumsq)) {                                         \
                /* CROSSINGS: without hysteresis and NaN, the state after a sample is whether it  \
                 * lies below the level, so a crossing is a pair of samples, below then at or     \
                 * above, and a block's crossings are listed eight samples at a time without a    \
                 * branch: the pairs' flags made into one byte, its set bits' places read from    \
                 * PLACES (a branch per sample mispredicts about every other sample of noise, and \
                 * a store per sample held the count in a chain through the block). The samples   \
                 * between two crossings are added in order, a short run with a fixed count of    \
                 * additions (those past its end add 0), so that its end costs no mispredicted    \
                 * branch either. */                                                              \
                const T *y = x + i;                                                               \
                flags[0] = armed && y[0] >= fire_at;                                              \
                _Pragma("omp simd")                                                               \
                for (Py_ssize_t k = 1; k < m; k++)                                                \
                    flags[k] = (y[k - 1] < arm_at) & (y[k] >= fire_at);                           \
                memset(flags + m, 0, 8);                                                          \
                Py_ssize_t count = 0;                                                             \
                for (Py_ssize_t k = 0; k < m; k += 8) {                                           \
                    uint64_t eight;                                                               \
                    memcpy(&eight, flags + k, 8);                                                 \
                    /* flag q (0 or 1, in byte q) to bit q of the top byte */                     \
                    unsigned byte = (unsigned)((eight * 0x0102040810204080ULL) >> 56);            \
                    for (int q = 0; q < 8; q++)                                                   \
                        fires[count + q] = (uint16_t)(k + PLACES[byte][q]);                       \
                    count += SET_BITS[byte];                                                      \
                }                                                                                 \
                _Pragma("omp simd")                                                               \
                for (Py_ssize_t k = 0; k < m; k++) squares[k] = (double)y[k] * y[k];              \
                memset(squares + m, 0, SHORT_RUN * sizeof(double));                               \
                if (grow_reserve(crossings, count) || grow_reserve(at_level, count) ||            \
                    grow_reserve(sums, count))                                                    \
                    return -1;                                                                    \
                int64_t *found = (int64_t *)crossings->data + crossings->len;                     \
                double *where = (double *)at_level->data + at_level->len;                         \
                double *closed = (double *)sums->data + sums->len;                                \
                Py_ssize_t from = 0;                                                              \
                for (Py_ssize_t c = 0; c < count; c++) {                                          \
                    Py_ssize_t j = i + fires[c];                                                  \
                    double x0 = x[j - 1], x1 = x[j];                                              \
                    open = add_run(open, squares + from, fires[c] - from);                        \
                    /* the span's first crossing opens its first cycle and closes none */         \
                    if (crossings->len + c)                                                       \
                        *closed++ = open;                                                         \
                    else                                                                          \
                        *head = open;                                                             \
                    found[c] = j;                                                                 \
                    where[c] = (double)(j - 1) + (x1 == x0 ? 1.0 : (level - x0) / (x1 - x0));     \
                    open = 0.0;                                                                   \
                    from = fires[c];                                                              \
                }                                                                                 \
                crossings->len += count;                                                          \
                at_level->len += count;                                                           \
                sums->len = closed - (double *)sums->data;                                        \
                open = add_run(open, squares + from, m - from);                                   \
                armed = y[m - 1] < arm_at;                                                        \
                continue;                                                                         \
            }                                                                                     \
            for (Py_ssize_t j = i; j < i + m; j++) {                                              \
                T v = x[j];                                                                       \
                if (!armed) {                                                                     \
                    armed = v < arm_at;                                                           \
                } else if (v >= fire_at) {                                                        \
                    if (NAME##_push(x, j, level, open, crossings, at_level, sums, head))          \
                        return -1;                                                                \
                    open = 0.0;                                                                   \
                    armed = 0;                                                                    \
                }                                                                                 \
                open += (double)v * v;                                                            \
            }                                                                                     \
        }                                                                                         \
        *total = all;                                                                             \
        *tail = open;                                                                             \
        if (crossings->len == 0) *head = open;                                                    \
        return 0;                                                                                 \
    }
DEFINE_CYCLES(float, cycles_f32, block_f32)
DEFINE_CYCLES(double, cycles_f64, block_f64)

/* The step pass and the searches go by blocks wider than BLOCK: each block's lanes are folded, and
 * they have little else to do. */
#define WIDE_BLOCK (8 * BLOCK)

/* Step metrics: min and max with the index of their first occurrence, the last sample at or beyond
 * either edge of the settling band, and the sum (finite check). Only the blocks that hold them are
 * searched sample by sample, after the pass. */
#define DEFINE_EXTREMES(T, NAME, BLOCKFN)                                                          \
    MULTIVERSION static void NAME(const T *x, Py_ssize_t n, T band_lo, T band_hi, double vals[3],  \
                                  Py_ssize_t idx[3]) {                                             \
        Stats all = {INFINITY, -INFINITY, 0.0, 0.0};                                               \
        Py_ssize_t lo_block = -1, hi_block = -1, out_block = -1;                                   \
        for (Py_ssize_t i = 0; i < n; i += WIDE_BLOCK) {                                           \
            Stats b = BLOCKFN(x + i, block_len(i, n, WIDE_BLOCK));                                 \
            all.sum += b.sum;                                                                      \
            if (b.lo < all.lo) {                                                                   \
                all.lo = b.lo;                                                                     \
                lo_block = i;                                                                      \
            }                                                                                      \
            if (b.hi > all.hi) {                                                                   \
                all.hi = b.hi;                                                                     \
                hi_block = i;                                                                      \
            }                                                                                      \
            if (b.lo <= band_lo || b.hi >= band_hi) out_block = i;                                 \
        }                                                                                          \
        idx[0] = idx[1] = idx[2] = -1;                                                             \
        for (Py_ssize_t j = lo_block; lo_block >= 0 && idx[0] < 0 && j < n; j++)                   \
            if (x[j] == (T)all.lo) idx[0] = j;                                                     \
        for (Py_ssize_t j = hi_block; hi_block >= 0 && idx[1] < 0 && j < n; j++)                   \
            if (x[j] == (T)all.hi) idx[1] = j;                                                     \
        Py_ssize_t out_end = out_block < 0 ? -1 : out_block + block_len(out_block, n, WIDE_BLOCK); \
        for (Py_ssize_t j = out_end - 1; idx[2] < 0 && j >= out_block && j >= 0; j--)              \
            if (x[j] <= band_lo || x[j] >= band_hi) idx[2] = j;                                    \
        vals[0] = all.lo;                                                                          \
        vals[1] = all.hi;                                                                          \
        vals[2] = all.sum;                                                                         \
    }
DEFINE_EXTREMES(float, extremes_f32, spread_f32)
DEFINE_EXTREMES(double, extremes_f64, spread_f64)

/* Searches: the first index whose sample compares true with t, or -1. A block's min or max says
 * whether it holds a hit (both leave NaN aside, as numpy's comparisons are false for NaN); only a
 * block that does is searched sample by sample. *suspect is set when a block read holds a sample
 * that is not finite. */
#define DEFINE_FIRST(T, NAME, OP, SIDE, SPREADFN)                                      \
    MULTIVERSION static Py_ssize_t NAME(const T *x, Py_ssize_t n, T t, int *suspect) { \
        for (Py_ssize_t i = 0; i < n; i += WIDE_BLOCK) {                               \
            Py_ssize_t m = block_len(i, n, WIDE_BLOCK);                                \
            Stats b = SPREADFN(x + i, m);                                              \
            if (b.sum != 0) *suspect = 1;                                              \
            if ((T)b.SIDE OP t)                                                        \
                for (Py_ssize_t j = i; j < i + m; j++)                                 \
                    if (x[j] OP t) return j;                                           \
        }                                                                              \
        return -1;                                                                     \
    }
DEFINE_FIRST(float, first_lt_f32, <, lo, spread_f32)
DEFINE_FIRST(float, first_le_f32, <=, lo, spread_f32)
DEFINE_FIRST(float, first_gt_f32, >, hi, spread_f32)
DEFINE_FIRST(float, first_ge_f32, >=, hi, spread_f32)
DEFINE_FIRST(double, first_lt_f64, <, lo, spread_f64)
DEFINE_FIRST(double, first_le_f64, <=, lo, spread_f64)
DEFINE_FIRST(double, first_gt_f64, >, hi, spread_f64)
DEFINE_FIRST(double, first_ge_f64, >=, hi, spread_f64)

/* The samples that are not finite: how many, and the first (or -1). */
#define DEFINE_NONFINITE(T, NAME)                                                         \
    MULTIVERSION static Py_ssize_t NAME(const T *x, Py_ssize_t n, Py_ssize_t *first) {    \
        Py_ssize_t count = 0;                                                             \
        *first = -1;                                                                      \
        for (Py_ssize_t i = 0; i < n; i += BLOCK) {                                       \
            Py_ssize_t m = block_len(i, n, BLOCK), in_block = 0;                          \
            _Pragma("omp simd reduction(+ : in_block)")                                   \
            for (Py_ssize_t j = 0; j < m; j++) in_block += !(x[i + j] - x[i + j] == 0);   \
            if (in_block && *first < 0)                                                   \
                for (Py_ssize_t j = i; *first < 0; j++)                                   \
                    if (!(x[j] - x[j] == 0)) *first = j;                                  \
            count += in_block;                                                            \
        }                                                                                 \
        return count;                                                                     \
    }
DEFINE_NONFINITE(float, nonfinite_f32)
DEFINE_NONFINITE(double, nonfinite_f64)

/* A Grow's items handed to Python without a copy: a bytes-like object that owns the memory (numpy's
 * frombuffer reads it in place). Noise about zero makes a crossing every few samples, and copying
 * its three result arrays into bytes, with the GIL held, took as long as finding them. */
typedef struct {
    PyObject_HEAD char *data;
    Py_ssize_t len;
} Owned;

static int owned_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Owned *o = (Owned *)self;
    return PyBuffer_FillInfo(view, self, o->data ? o->data : "", o->len, 1, flags);
}

static void owned_dealloc(PyObject *self) {
    PyMem_RawFree(((Owned *)self)->data);
    Py_TYPE(self)->tp_free(self);
}

static Py_ssize_t owned_length(PyObject *self) { return ((Owned *)self)->len; }

static PyBufferProcs owned_as_buffer = {owned_getbuffer, NULL};
static PySequenceMethods owned_as_sequence = {.sq_length = owned_length};

static PyTypeObject OwnedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hil.waveform._kernels.Items",
    .tp_basicsize = sizeof(Owned),
    .tp_dealloc = owned_dealloc,
    .tp_as_buffer = &owned_as_buffer,
    .tp_as_sequence = &owned_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Items a kernel found (8 bytes each), read in place through the buffer protocol.",
};

/* A long capture is many spans, each with a few crossings or none: their room beyond the items is
 * given back. Not that of large results: shrinking a few MiB cost as much as finding them (3 ms of
 * the 8 ms a span of noise took). */
#define FIT_BELOW (64 << 10)
static void grow_fit(Grow *g) {
    if (g->len == 0) {
        PyMem_RawFree(g->data);
        g->data = NULL;
        g->cap = 0;
    } else if (g->len < g->cap && g->len * ITEM < FIT_BELOW) {
        char *fitted = PyMem_RawRealloc(g->data, (size_t)g->len * ITEM);
        if (fitted) { /* where it cannot shrink, it keeps its room */
            g->data = fitted;
            g->cap = g->len;
        }
    }
}

/* The Grow's items as an Owned object (the Grow is emptied), or NULL with an error set. */
static PyObject *owned_from(Grow *g) {
    Owned *o = PyObject_New(Owned, &OwnedType);
    if (!o) return NULL;
    grow_fit(g);
    o->data = g->data;
    o->len = g->len * ITEM;
    g->data = NULL;
    g->len = g->cap = 0;
    return (PyObject *)o;
}

/* A one-dimensional C-contiguous float32 or float64 buffer; 4 or 8 in *item, 0 with an error set. */
static int get_samples(PyObject *obj, Py_buffer *view, int *item) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return 0;
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (view->ndim == 1 && f[1] == '\0' && (*f == 'f' || *f == 'd')) {
        *item = *f == 'f' ? 4 : 8;
        return 1;
    }
    PyErr_SetString(PyExc_TypeError, "samples must be a 1-D contiguous float32 or float64 array");
    PyBuffer_Release(view);
    return 0;
}

static PyObject *py_moments(PyObject *self, PyObject *args) {
    PyObject *obj;
    double ref;
    Stats out;
    Py_buffer view;
    int item;
    if (!PyArg_ParseTuple(args, "Od", &obj, &ref) || !get_samples(obj, &view, &item)) return NULL;
    Py_BEGIN_ALLOW_THREADS;
    if (item == 4)
        out = moments_f32(view.buf, view.shape[0], (float)ref);
    else
        out = moments_f64(view.buf, view.shape[0], ref);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    return Py_BuildValue("dddd", out.lo, out.hi, out.sum, out.sumsq);
}

/* The envelope screen of a whole channel in one call: min and max of each chunk of `size` samples (the
 * last may be short), and the sum of x - x over all. A call per chunk from Python cost the threads
 * that share a capture's channels a handover of the GIL per chunk. */
static PyObject *py_chunk_minmax(PyObject *self, PyObject *args) {
    PyObject *obj, *result = NULL;
    Py_ssize_t size;
    Py_buffer view;
    int item;
    if (!PyArg_ParseTuple(args, "On", &obj, &size)) return NULL;
    if (size < 1) {
        PyErr_Format(PyExc_ValueError, "chunk size must be 1 or more, got %zd", size);
        return NULL;
    }
    if (!get_samples(obj, &view, &item)) return NULL;
    Py_ssize_t n = view.shape[0], n_chunks = n / size + (n % size != 0);
    double *lo = PyMem_RawMalloc(2 * (size_t)(n_chunks ? n_chunks : 1) * sizeof(double)), *hi = lo + n_chunks,
           zero = 0.0;
    if (!lo) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS;
    for (Py_ssize_t k = 0; k < n_chunks; k++) {
        double out[3];
        Py_ssize_t a = k * size, m = n - a < size ? n - a : size;
        if (item == 4)
            minmax_f32((const float *)view.buf + a, m, out);
        else
            minmax_f64((const double *)view.buf + a, m, out);
        lo[k] = out[0];
        hi[k] = out[1];
        zero += out[2];
    }
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    Py_ssize_t bytes = n_chunks * (Py_ssize_t)sizeof(double);
    result = Py_BuildValue("y#y#d", (const char *)lo, bytes, (const char *)hi, bytes, zero);
    PyMem_RawFree(lo);
    return result;
}

/* (double)n for 0 <= n < 2^52, exactly: n in the mantissa of 2^52, less 2^52. The conversion
 * instruction has no SIMD form before AVX-512, and a cycle's RMS, a division and a square root a
 * cycle, ran one cycle at a time: a third of a span of noise's time. */
static inline double count_to_double(int64_t n) {
    uint64_t bits = (uint64_t)n | 0x4330000000000000ULL;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d - 4503599627370496.0;
}

/* The sum of the closed cycles' sums of squares; with a sample rate, the results made into what the
 * rms check reports, where they are, by the thread that found them: each crossing's instant in
 * seconds (index / rate + start, as numpy would round it) and each closed cycle's RMS. Done by the
 * caller in numpy, these were a dozen short calls per span, and the threads queued for the GIL. */
MULTIVERSION static double finish_cycles(Grow *crossings, Grow *at_level, Grow *sums, double rate_hz,
                                         double start_s) {
    const int64_t *found = (const int64_t *)crossings->data;
    double *where = (double *)at_level->data, *cycle = (double *)sums->data, closed = 0.0;
    for (Py_ssize_t k = 0; k < sums->len; k++) closed += cycle[k];
    if (rate_hz > 0.0) {
        for (Py_ssize_t k = 0; k < at_level->len; k++) where[k] = where[k] / rate_hz + start_s;
        /* a span's k-th closed cycle runs from its crossing k to k + 1 */
        for (Py_ssize_t k = 0; k < sums->len; k++)
            cycle[k] = sqrt(cycle[k] / count_to_double(found[k + 1] - found[k]));
    }
    return closed;
}

/* One span's scan: its crossings, their places at the level, the closed cycles' sums (or, with a
 * sample rate, instants and RMS), and the sums of every sample, before the first crossing, after the
 * last and of the closed cycles. */
typedef struct {
    Grow crossings, at_level, sums;
    double total, head, tail, closed;
} Scanned;

/* Scans x[start:stop] into *s, without the GIL; -1 where memory ran out (*s then holds what it took,
 * for scanned_free). */
static int scan_span(const void *x, int item, Py_ssize_t start, Py_ssize_t stop, double fire_at,
                     double arm_at, double level, double rate_hz, double start_s, Scanned *s) {
    memset(s, 0, sizeof *s);
    Py_ssize_t most = (stop - start) / 2 + 2; /* a rising crossing takes two samples at least */
    Py_ssize_t room = most < RESERVE_MAX ? most : RESERVE_MAX;
    Py_ssize_t first = room < RESERVE_FIRST ? room : RESERVE_FIRST;
    s->crossings.room = s->at_level.room = s->sums.room = room;
    int rc = grow_room(&s->crossings, first) || grow_room(&s->at_level, first) || grow_room(&s->sums, first);
    if (!rc && item == 4)
        rc = cycles_f32(x, start, stop, (float)fire_at, (float)arm_at, level, &s->crossings, &s->at_level,
                        &s->sums, &s->total, &s->head, &s->tail);
    else if (!rc)
        rc = cycles_f64(x, start, stop, fire_at, arm_at, level, &s->crossings, &s->at_level, &s->sums,
                        &s->total, &s->head, &s->tail);
    if (!rc) s->closed = finish_cycles(&s->crossings, &s->at_level, &s->sums, rate_hz, start_s);
    return rc;
}

static void scanned_free(Scanned *s) {
    PyMem_RawFree(s->crossings.data);
    PyMem_RawFree(s->at_level.data);
    PyMem_RawFree(s->sums.data);
    s->crossings.data = s->at_level.data = s->sums.data = NULL;
}

/* A span's 7-tuple (see cycles_shared's doc), the arrays handed over to it (*s is emptied), or NULL
 * with an error set. */
static PyObject *scanned_tuple(Scanned *s) {
    PyObject *result = Py_BuildValue("NNNdddd", owned_from(&s->crossings), owned_from(&s->at_level),
                                     owned_from(&s->sums), s->total, s->head, s->tail, s->closed);
    scanned_free(s);
    return result;
}

/* Spans of several rows scanned by whichever threads call with the same `taken` counter: each call
 * takes the next span not taken (an atomic increment, without the GIL) until none is left. Called
 * once per span from Python, the threads queued for the GIL between spans, about 7 us each on two
 * threads: a tenth of a clean span's time. */
static PyObject *py_cycles_shared(PyObject *self, PyObject *args) {
    PyObject *rows_obj, *spans_obj, *taken_obj, *result = NULL;
    double fire_at, arm_at, level, rate_hz = 0.0, start_s = 0.0;
    Py_ssize_t most = PY_SSIZE_T_MAX, n = 0, done = 0, held = 0;
    Py_buffer spans = {0}, taken = {0};
    Py_buffer *views = NULL;
    int *items = NULL, rc = 0;
    Scanned *out = NULL;
    Py_ssize_t *index = NULL;
    if (!PyArg_ParseTuple(args, "OOOddd|ddn", &rows_obj, &spans_obj, &taken_obj, &fire_at, &arm_at, &level,
                          &rate_hz, &start_s, &most))
        return NULL;
    PyObject *rows = PySequence_Fast(rows_obj, "cycles_shared: rows, a sequence of sample arrays");
    if (!rows) return NULL;
    Py_ssize_t n_rows = PySequence_Fast_GET_SIZE(rows);
    views = PyMem_Calloc(n_rows + 1, sizeof(Py_buffer));
    items = PyMem_Calloc(n_rows + 1, sizeof(int));
    if (!views || !items) {
        PyErr_NoMemory();
        goto done;
    }
    for (; held < n_rows; held++)
        if (!get_samples(PySequence_Fast_GET_ITEM(rows, held), &views[held], &items[held])) goto done;
    if (PyObject_GetBuffer(spans_obj, &spans, PyBUF_C_CONTIGUOUS) < 0) goto done;
    if (PyObject_GetBuffer(taken_obj, &taken, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) goto done;
    if (spans.len % (3 * sizeof(int64_t)) || taken.len != sizeof(int64_t) ||
        (uintptr_t)taken.buf % sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError,
                        "cycles_shared: spans are int64 rows (row, start, stop), taken one aligned int64");
        goto done;
    }
    n = spans.len / (Py_ssize_t)(3 * sizeof(int64_t));
    const int64_t *span = spans.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        const int64_t *s = span + 3 * i;
        if (s[0] < 0 || s[0] >= n_rows || s[1] < 0 || s[1] > s[2] || s[2] > views[s[0]].shape[0]) {
            PyErr_Format(PyExc_ValueError,
                         "cycles_shared: span %zd (row %lld, [%lld, %lld)) outside the rows", i,
                         (long long)s[0], (long long)s[1], (long long)s[2]);
            goto done;
        }
    }
    out = PyMem_Calloc(n + 1, sizeof(Scanned));
    index = PyMem_Calloc(n + 1, sizeof(Py_ssize_t));
    if (!out || !index) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *counter = taken.buf;
    Py_BEGIN_ALLOW_THREADS;
    while (done < most && !rc) {
        int64_t i = __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
        if (i >= n) break;
        const int64_t *s = span + 3 * i;
        index[done] = (Py_ssize_t)i;
        rc = scan_span(views[s[0]].buf, items[s[0]], s[1], s[2], fire_at, arm_at, level, rate_hz, start_s,
                       &out[done]);
        /* a call holds every span it took until it returns: each with its room, as many spans of a
         * long clean capture, 12 KiB a span, looked like a copy of it */
        grow_fit(&out[done].crossings);
        grow_fit(&out[done].at_level);
        grow_fit(&out[done++].sums);
    }
    Py_END_ALLOW_THREADS;
    if (rc) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyList_New(done);
    for (Py_ssize_t k = 0; result && k < done; k++) {
        PyObject *pair = Py_BuildValue("nN", index[k], scanned_tuple(&out[k]));
        if (!pair) Py_CLEAR(result);
        else PyList_SET_ITEM(result, k, pair);
    }
done:
    for (Py_ssize_t k = 0; out && k < done; k++) scanned_free(&out[k]);
    PyMem_Free(out);
    PyMem_Free(index);
    if (taken.obj) PyBuffer_Release(&taken);
    if (spans.obj) PyBuffer_Release(&spans);
    for (Py_ssize_t r = 0; r < held; r++) PyBuffer_Release(&views[r]);
    PyMem_Free(views);
    PyMem_Free(items);
    Py_DECREF(rows);
    return result;
}

/* A span's k-th item, if cycles_shared() made it. */
static Owned *span_items(PyObject *span, Py_ssize_t k) {
    PyObject *item = PyTuple_GET_ITEM(span, k);
    if (!Py_IS_TYPE(item, &OwnedType)) {
        PyErr_SetString(PyExc_TypeError, "join_cycles: a span's items come from cycles_shared()");
        return NULL;
    }
    return (Owned *)item;
}

/* One channel's spans, as cycles_shared() with a sample rate left them, in one result: every crossing's
 * instant, every cycle's RMS with the cycles over the seams between spans (their sums of squares
 * taken on both sides), and the count of crossings, the first and the last, the sum of squares of
 * the complete cycles and of every sample. In Python this was a dozen calls per span, and a long
 * capture is hundreds of spans. */
static PyObject *py_join_cycles(PyObject *self, PyObject *arg) {
    PyObject *spans = PySequence_Fast(arg, "join_cycles: a sequence of cycles_shared() spans");
    if (!spans) return NULL;
    Py_ssize_t n_spans = PySequence_Fast_GET_SIZE(spans), n = 0;
    for (Py_ssize_t i = 0; i < n_spans; i++) {
        PyObject *span = PySequence_Fast_GET_ITEM(spans, i);
        Owned *found, *at, *rms;
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 7 || !(found = span_items(span, 0)) ||
            !(at = span_items(span, 1)) || !(rms = span_items(span, 2)) || at->len != found->len ||
            rms->len != (found->len ? found->len - ITEM : 0)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "join_cycles: a span is cycles_shared()'s 7-tuple");
            Py_DECREF(spans);
            return NULL;
        }
        n += found->len / ITEM;
    }
    Grow starts = {NULL, 0, 0, 0}, cycles = {NULL, 0, 0, 0};
    if ((n && grow_room(&starts, n)) || (n > 1 && grow_room(&cycles, n - 1))) {
        PyMem_RawFree(starts.data);
        Py_DECREF(spans);
        return PyErr_NoMemory();
    }
    double total = 0.0, sum_sq = 0.0, open = 0.0;
    int64_t first = -1, last = -1;
    for (Py_ssize_t i = 0; i < n_spans; i++) {
        PyObject *span = PySequence_Fast_GET_ITEM(spans, i);
        Owned *found = (Owned *)PyTuple_GET_ITEM(span, 0), *at = (Owned *)PyTuple_GET_ITEM(span, 1),
              *rms = (Owned *)PyTuple_GET_ITEM(span, 2);
        double head = PyFloat_AsDouble(PyTuple_GET_ITEM(span, 4));
        double tail = PyFloat_AsDouble(PyTuple_GET_ITEM(span, 5));
        total += PyFloat_AsDouble(PyTuple_GET_ITEM(span, 3));
        Py_ssize_t m = found->len / ITEM;
        if (m == 0) {
            open += tail;
            continue;
        }
        const int64_t *f = (const int64_t *)found->data;
        memcpy(starts.data + starts.len * ITEM, at->data, (size_t)m * ITEM);
        starts.len += m;
        if (last >= 0) { /* the cycle over the seam, from the last span's last crossing to this one's first */
            double seam = open + head;
            sum_sq += seam;
            ((double *)cycles.data)[cycles.len++] = sqrt(seam / (double)(f[0] - last));
        } else {
            first = f[0];
        }
        if (m > 1) memcpy(cycles.data + cycles.len * ITEM, rms->data, (size_t)(m - 1) * ITEM);
        cycles.len += m - 1;
        sum_sq += PyFloat_AsDouble(PyTuple_GET_ITEM(span, 6));
        last = f[m - 1];
        open = tail;
    }
    Py_DECREF(spans);
    if (PyErr_Occurred()) {
        PyMem_RawFree(starts.data);
        PyMem_RawFree(cycles.data);
        return NULL;
    }
    return Py_BuildValue("NNnLLdd", owned_from(&starts), owned_from(&cycles), n, (long long)first,
                         (long long)last, sum_sq, total);
}

static PyObject *py_extremes(PyObject *self, PyObject *args) {
    PyObject *obj;
    double band_lo, band_hi, vals[3];
    Py_ssize_t idx[3];
    Py_buffer view;
    int item;
    if (!PyArg_ParseTuple(args, "Odd", &obj, &band_lo, &band_hi) || !get_samples(obj, &view, &item))
        return NULL;
    Py_BEGIN_ALLOW_THREADS;
    if (item == 4)
        extremes_f32(view.buf, view.shape[0], (float)band_lo, (float)band_hi, vals, idx);
    else
        extremes_f64(view.buf, view.shape[0], band_lo, band_hi, vals, idx);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    return Py_BuildValue("dddnnn", vals[0], vals[1], vals[2], idx[0], idx[1], idx[2]);
}

static PyObject *py_first(PyObject *self, PyObject *args) {
    static const char *const ops[] = {"<", "<=", ">", ">="};
    Py_ssize_t (*const f32[])(const float *, Py_ssize_t, float, int *) = {first_lt_f32, first_le_f32,
                                                                          first_gt_f32, first_ge_f32};
    Py_ssize_t (*const f64[])(const double *, Py_ssize_t, double, int *) = {first_lt_f64, first_le_f64,
                                                                            first_gt_f64, first_ge_f64};
    PyObject *obj;
    const char *op;
    double t;
    Py_ssize_t found;
    Py_buffer view;
    int item, k = 0, suspect = 0;
    if (!PyArg_ParseTuple(args, "Ods", &obj, &t, &op)) return NULL;
    while (k < 4 && strcmp(op, ops[k])) k++;
    if (k == 4) {
        PyErr_Format(PyExc_ValueError, "comparison must be one of < <= > >=, got %s", op);
        return NULL;
    }
    if (!get_samples(obj, &view, &item)) return NULL;
    Py_BEGIN_ALLOW_THREADS;
    if (item == 4)
        found = f32[k](view.buf, view.shape[0], (float)t, &suspect);
    else
        found = f64[k](view.buf, view.shape[0], t, &suspect);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    return Py_BuildValue("nO", found, suspect ? Py_True : Py_False);
}

static PyObject *py_nonfinite(PyObject *self, PyObject *args) {
    PyObject *obj;
    Py_ssize_t count, first;
    Py_buffer view;
    int item;
    if (!PyArg_ParseTuple(args, "O", &obj) || !get_samples(obj, &view, &item)) return NULL;
    Py_BEGIN_ALLOW_THREADS;
    if (item == 4)
        count = nonfinite_f32(view.buf, view.shape[0], &first);
    else
        count = nonfinite_f64(view.buf, view.shape[0], &first);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    return Py_BuildValue("nn", count, first);
}

static PyMethodDef methods[] = {
    {"moments", py_moments, METH_VARARGS,
     "moments(x, ref) -> (min, max, sum, sum of squares) of x - ref, in one pass."},
    {"chunk_minmax", py_chunk_minmax, METH_VARARGS,
     "chunk_minmax(x, size) -> (min of each chunk of size samples as float64 bytes, max of each likewise,"
     " sum of x - x: 0 unless a sample is NaN or infinite), in one pass."},
    {"join_cycles", py_join_cycles, METH_O,
     "join_cycles(spans) -> one channel's spans (cycles_shared() scans with a sample rate, in order) joined:"
     " (instants as float64 items, per-cycle RMS as float64 items with the cycles over the seams, count of"
     " crossings, first crossing, last crossing (-1 without), sum of squares of the complete cycles, of"
     " every sample)."},
    {"cycles_shared", py_cycles_shared, METH_VARARGS,
     "cycles_shared(rows, spans, taken, fire_at, arm_at, level, rate_hz=0, start_s=0, most=all) -> [(i, span"
     " i's scan)] for the spans this call took (at most `most`): spans an int64 array of (row, start, stop),"
     " taken an int64 array of one item, the count of spans taken by every call sharing it. A span's scan,"
     " over rows[row][start:stop] in the state the samples before start left: (crossings as int64 items,"
     " where they meet level as float64 items of fractional indices, per-cycle sums of squares between them"
     " as float64 items, total sum of squares, sum of squares before the first crossing, after the last, sum"
     " of the per-cycle sums). With rate_hz > 0 the second items are instants (index / rate_hz + start_s) and"
     " the third per-cycle RMS."},
    {"extremes", py_extremes, METH_VARARGS,
     "extremes(x, band_lo, band_hi) -> (min, max, sum, argmin, argmax, last index at or beyond the band)."},
    {"first", py_first, METH_VARARGS,
     "first(x, t, op) -> (the first index i with x[i] op t (op one of < <= > >=) or -1, whether a block"
     " read held a sample that is not finite)."},
    {"nonfinite", py_nonfinite, METH_VARARGS,
     "nonfinite(x) -> (count of samples that are NaN or infinite, index of the first or -1)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Single-pass kernels of the streaming checks.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    if (PyType_Ready(&OwnedType) < 0) return NULL;
    make_places();
    return PyModule_Create(&module);
}
