/*
 * tree_fit.c - growing the decision-tree student: binning, histogram split
 * search made exact on the rows where it can matter, and CART growth
 * (depth-first, or best-first under max_leaves).  See docs/students-tree.md.
 * Layer: core/model/students.  Parameters, prediction and the artifact live
 * in tree.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/students/tree.h"
#include "core/model/students/tree_impl.h"
#include "core/parallel.h"

/* Values sampled per numeric feature to place quantile bin edges. */
#define BIN_SAMPLE 200000
/* Below this many (rows x features) a histogram is built on one thread. */
#define PARALLEL_MIN_WORK 65536
/* Histogram memory best-first growth keeps for waiting leaves; beyond it a
 * waiting leaf drops its histogram and rebuilds it when it is split. */
#define HIST_BUDGET_BYTES ((size_t)64 << 20)
/* Cells of the per-feature table that starts the search for a value's bin. */
#define BIN_CELLS 1024
/* Row chunks binned as separate tasks (each keeps its own bin extremes). */
#define BIN_CHUNKS 16
/* Rows whose values one refinement batch gathers (see refine_splits). */
#define REFINE_BATCH_ROWS ((size_t)1 << 16)

/* ------------------------------------------------------------------------ */
/* Fitting: binning                                                         */
/* ------------------------------------------------------------------------ */

typedef struct feat_bins {
    size_t n_bins;  /* non-missing bins; the missing bin is n_bins */
    double *edges;  /* numeric: n_bins - 1 increasing upper edges */
    uint16_t *cell; /* numeric: BIN_CELLS + 1 search starts (see bin_of) */
    double cell_lo, cell_scale;
    size_t hist_at; /* first bin of this feature in a node histogram */
    int categorical;
    /* split-search scratch owned by this feature's task */
    double *scan;        /* 3 * K doubles (+ categorical extras) */
    size_t *level_order; /* categorical: n_bins */
    double *level_key;   /* categorical: n_bins */
    /* exact scan in the current node: bins marked in gather (n_bins) have
     * their rows at entries [ent_at, +ent_n) */
    unsigned char *gather;
    size_t ent_at, ent_n;
} feat_bins;

/* A numeric split sends bins < bin_lo left, bins > bin_hi right, and rows
 * of bins bin_lo..bin_hi by their value (x <= threshold goes left); bin_hi
 * is n_bins when no bin after bin_lo holds rows of the node. */
typedef struct split_info {
    double gain;
    int feature; /* -1: no split */
    size_t cut;  /* numeric: histogram cut (bins <= cut left); categorical:
                    prefix length of the level order */
    size_t bin_lo, bin_hi;
    double threshold;
    int missing_left;
    size_t n_left;
} split_info;

typedef struct grow_node {
    int feature; /* -1 leaf */
    size_t cut;
    size_t bin_lo, bin_hi; /* numeric: as split_info */
    double threshold;
    int missing_left;
    size_t left, right;
    size_t n, n_missing;
    size_t cat_at; /* categorical split: offset of its left set in cat_sets */
} grow_node;

typedef struct work_leaf {
    size_t node;
    size_t begin, end;
    unsigned depth;
    double *hist;
    split_info best;
} work_leaf;

typedef struct fit_ctx {
    const gb_train_set *ts;
    gb_tree_params p;
    size_t n_rows, n_feat;
    size_t K; /* target components: 1 for binary and regression */
    size_t S; /* histogram stride: count + K sums */
    feat_bins *fb;
    size_t total_bins;
    /* bins, row-major n_rows x n_feat: bytes, or 16-bit when a categorical
     * feature has more than 255 levels */
    unsigned char *bins8;
    uint16_t *bins16;
    double **hist_ptr; /* per feature: its block in the histogram being built */
    size_t n_groups;   /* feature groups (tasks) per histogram build */
    uint32_t *order, *order_tmp;
    double *tgt, *tgt_tmp; /* n_rows x K, in `order` order */
    /* growth */
    grow_node *nodes;
    size_t n_nodes, cap_nodes;
    double *node_sum; /* K per node */
    double *node_sse;
    double *node_tmin, *node_tmax; /* K per node: range of the targets */
    size_t cap_sum;
    double **free_hists;
    size_t n_free_hists, n_hists_alloc, cap_hists;
    size_t max_live_hists; /* best-first: histograms kept by waiting leaves */
    double **all_hists;
    unsigned char *cat_sets; /* left sets of categorical splits */
    size_t cat_sets_len, cat_sets_cap;
    work_leaf *frontier;
    size_t n_frontier, cap_frontier;
    split_info *feat_split; /* n_feat per-feature results */
    /* numeric bins' smallest and largest training value, at hist_at + b */
    double *bin_lo, *bin_hi;
    double *chunk_lo, *chunk_hi; /* BIN_CHUNKS x total_bins while binning */
    /* refinement: gathered values (order keys) and positions in `order` */
    uint64_t *ent_key, *ent_key_tmp;
    uint32_t *ent_pos, *ent_pos_tmp;
    size_t ent_cap;
    size_t *gather_feats; /* features gathered by the current batch */
    size_t n_gather_feats;
    size_t job_node;
    double job_gain; /* best histogram gain of the node being refined */
    /* the job of the current parallel call */
    const double *parent_sum;
    size_t job_begin, job_end, job_n;
    double *job_hist;
    double job_sse;
} fit_ctx;

/* Order-preserving map of a non-NaN double to an unsigned key. */
static uint64_t double_key(double x)
{
    uint64_t u;
    if (x == 0.0)
        x = 0.0; /* -0.0 sorts with +0.0 */
    memcpy(&u, &x, sizeof u);
    return (u & 0x8000000000000000ULL) ? ~u : u | 0x8000000000000000ULL;
}

static double key_double(uint64_t k)
{
    uint64_t u = (k & 0x8000000000000000ULL) ? k & ~0x8000000000000000ULL : ~k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Sorts m keys with an LSD radix sort on bytes (tmp has m slots); passes
 * whose byte is the same for every key are skipped.  Returns the buffer
 * holding the sorted keys. */
static uint64_t *radix_sort(uint64_t *keys, uint64_t *tmp, size_t m)
{
    size_t count[256];
    for (unsigned shift = 0; shift < 64; shift += 8) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < m; i++)
            count[(keys[i] >> shift) & 0xff]++;
        if (m == 0 || count[(keys[0] >> shift) & 0xff] == m)
            continue;
        size_t at = 0;
        for (size_t b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (size_t i = 0; i < m; i++)
            tmp[count[(keys[i] >> shift) & 0xff]++] = keys[i];
        uint64_t *swap = keys;
        keys = tmp;
        tmp = swap;
    }
    return keys;
}

/* Upper edge between neighbouring training values a < b (scikit-learn's
 * midpoint rule: the midpoint, or a when it rounds up to b). */
static double edge_between(double a, double b)
{
    double mid = a * 0.5 + b * 0.5;
    if (!(mid >= a && mid < b))
        mid = a;
    return mid;
}

typedef struct bin_job {
    fit_ctx *c;
    gb_status *status; /* per feature */
} bin_job;

/* Places the edges of numeric feature f from a strided sample of its values
 * and bins every row.  Runs as one parallel task per feature. */
static void bin_feature_cb(void *vctx, size_t f)
{
    bin_job *job = vctx;
    fit_ctx *c = job->c;
    feat_bins *fb = &c->fb[f];
    const double *X = c->ts->X;
    size_t n = c->n_rows, F = c->n_feat;
    if (fb->categorical)
        return;
    size_t stride = n > BIN_SAMPLE ? (n + BIN_SAMPLE - 1) / BIN_SAMPLE : 1;
    size_t cap = n / stride + 1;
    uint64_t *keys = gb_malloc_array(2 * cap, sizeof *keys);
    double *sample = gb_malloc_array(cap, sizeof *sample);
    if (keys == NULL || sample == NULL) {
        gb_free(keys);
        gb_free(sample);
        job->status[f] = GB_ENOMEM;
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i += stride) {
        double x = X[i * F + f];
        if (!isnan(x))
            keys[m++] = double_key(x);
    }
    const uint64_t *sorted = radix_sort(keys, keys + cap, m);
    for (size_t i = 0; i < m; i++)
        sample[i] = key_double(sorted[i]);
    gb_free(keys);
    size_t n_distinct = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || sample[i] != sample[i - 1])
            n_distinct++;
    size_t max_bins = c->p.max_bins;
    size_t n_edges = 0;
    /* edges are written into fb->edges (allocated with max_bins - 1 slots) */
    if (n_distinct <= max_bins) {
        for (size_t i = 1; i < m; i++)
            if (sample[i] != sample[i - 1])
                fb->edges[n_edges++] = edge_between(sample[i - 1], sample[i]);
    } else {
        /* cut after a distinct value when the running count crosses the next
         * multiple of m / max_bins */
        size_t next = 1;
        for (size_t i = 0; i < m;) {
            size_t j = i;
            while (j < m && sample[j] == sample[i])
                j++;
            if (j >= m)
                break;
            if ((double)j * (double)max_bins >= (double)next * (double)m &&
                n_edges + 1 < max_bins) {
                fb->edges[n_edges++] = edge_between(sample[i], sample[j]);
                while ((double)next * (double)m <= (double)j * (double)max_bins)
                    next++;
            }
            i = j;
        }
    }
    gb_free(sample);
    fb->n_bins = n_edges + 1;
    /* search starts: cell j of BIN_CELLS equal cells over [first, last edge]
     * starts at the number of edges below its left end */
    if (n_edges >= 2 && fb->edges[n_edges - 1] > fb->edges[0]) {
        double lo = fb->edges[0], hi = fb->edges[n_edges - 1];
        fb->cell_lo = lo;
        fb->cell_scale = (double)BIN_CELLS / (hi - lo);
        if (!isfinite(fb->cell_scale))
            return;
        size_t b = 0;
        for (size_t j = 0; j <= BIN_CELLS; j++) {
            double left = lo + (double)j * ((hi - lo) / (double)BIN_CELLS);
            while (b < n_edges && fb->edges[b] < left)
                b++;
            fb->cell[j] = (uint16_t)b;
        }
    }
}

/* Bin of a non-missing numeric value: the number of edges < x.  The cell
 * table gives a starting guess; the scans make the answer exact whatever the
 * rounding of the guess. */
static size_t bin_of(const feat_bins *fb, double x)
{
    const double *edges = fb->edges;
    size_t n_edges = fb->n_bins - 1, b;
    if (fb->cell_scale > 0.0) {
        double pos = (x - fb->cell_lo) * fb->cell_scale;
        if (!(pos >= 0.0))
            pos = 0.0;
        if (pos > (double)BIN_CELLS)
            pos = (double)BIN_CELLS;
        b = fb->cell[(size_t)pos];
    } else {
        b = 0;
    }
    while (b > 0 && edges[b - 1] >= x)
        b--;
    while (b < n_edges && edges[b] < x)
        b++;
    return b;
}

/* Bins the rows of chunk `chunk` (of BIN_CHUNKS) for every feature
 * (row-major reads) and records each numeric bin's smallest and largest value
 * in the chunk's slots of chunk_lo / chunk_hi. */
static void bin_rows_cb(void *vctx, size_t chunk)
{
    bin_job *job = vctx;
    fit_ctx *c = job->c;
    const double *X = c->ts->X;
    size_t F = c->n_feat;
    size_t begin = chunk * c->n_rows / BIN_CHUNKS,
           end = (chunk + 1) * c->n_rows / BIN_CHUNKS;
    double *lo = c->chunk_lo + chunk * c->total_bins;
    double *hi = c->chunk_hi + chunk * c->total_bins;
    for (size_t j = 0; j < c->total_bins; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (size_t i = begin; i < end; i++) {
        const double *row = X + i * F;
        for (size_t f = 0; f < F; f++) {
            feat_bins *fb = &c->fb[f];
            double x = row[f];
            size_t b;
            if (isnan(x)) {
                b = fb->n_bins;
            } else if (fb->categorical) {
                b = (size_t)x;
            } else {
                b = bin_of(fb, x);
                size_t at = fb->hist_at + b;
                if (x < lo[at])
                    lo[at] = x;
                if (x > hi[at])
                    hi[at] = x;
            }
            if (c->bins8 != NULL)
                c->bins8[i * F + f] = (unsigned char)b;
            else
                c->bins16[i * F + f] = (uint16_t)b;
        }
    }
}

/* Bin of row `row` of feature f. */
static size_t row_bin(const fit_ctx *c, size_t row, size_t f)
{
    size_t at = row * c->n_feat + f;
    return c->bins8 != NULL ? c->bins8[at] : c->bins16[at];
}

/* ------------------------------------------------------------------------ */
/* Fitting: histograms and split search                                     */
/* ------------------------------------------------------------------------ */

/* Builds the histograms of feature group `group` over the job's rows: each
 * feature's histogram is summed by this one task in row order. */
static void hist_group_cb(void *vctx, size_t group)
{
    fit_ctx *c = vctx;
    size_t F = c->n_feat, S = c->S, K = c->K;
    size_t f0 = group * F / c->n_groups, f1 = (group + 1) * F / c->n_groups;
    double **hp = c->hist_ptr;
    for (size_t f = f0; f < f1; f++) {
        hp[f] = c->job_hist + c->fb[f].hist_at * S;
        memset(hp[f], 0, (c->fb[f].n_bins + 1) * S * sizeof *hp[f]);
    }
    const uint32_t *order = c->order;
    const double *tgt = c->tgt;
    size_t begin = c->job_begin, end = c->job_end;
    if (c->bins8 != NULL && K == 1) {
        for (size_t i = begin; i < end; i++) {
            const unsigned char *rb = c->bins8 + (size_t)order[i] * F;
            double t = tgt[i];
            for (size_t f = f0; f < f1; f++) {
                double *hb = hp[f] + 2 * (size_t)rb[f];
                hb[0] += 1.0;
                hb[1] += t;
            }
        }
    } else if (c->bins8 != NULL) {
        for (size_t i = begin; i < end; i++) {
            const unsigned char *rb = c->bins8 + (size_t)order[i] * F;
            const double *t = tgt + i * K;
            for (size_t f = f0; f < f1; f++) {
                double *hb = hp[f] + S * (size_t)rb[f];
                hb[0] += 1.0;
                for (size_t k = 0; k < K; k++)
                    hb[1 + k] += t[k];
            }
        }
    } else {
        for (size_t i = begin; i < end; i++) {
            const uint16_t *rb = c->bins16 + (size_t)order[i] * F;
            const double *t = tgt + i * K;
            for (size_t f = f0; f < f1; f++) {
                double *hb = hp[f] + S * (size_t)rb[f];
                hb[0] += 1.0;
                for (size_t k = 0; k < K; k++)
                    hb[1 + k] += t[k];
            }
        }
    }
}

/* sum_k L_k^2 / nl + sum_k (P_k - L_k)^2 / nr */
static double split_score(const double *left, double nl, const double *parent, double n,
                          size_t K)
{
    double nr = n - nl, sl = 0.0, sr = 0.0;
    for (size_t k = 0; k < K; k++) {
        double r = parent[k] - left[k];
        sl += left[k] * left[k];
        sr += r * r;
    }
    return sl / nl + sr / nr;
}

/* Tries cut (or, numeric, threshold) with left = acc (+ missing when tried)
 * and keeps it when strictly better. */
static void consider(fit_ctx *c, split_info *best, int f, size_t cut, double threshold,
                     size_t bin_lo, size_t bin_hi, const double *acc, double n_acc,
                     const double *miss, double n_miss, double base)
{
    size_t K = c->K;
    double n = (double)c->job_n;
    double msl = (double)c->p.min_samples_leaf;
    double *with_miss = c->fb[f].scan + 2 * K;
    for (int side = 0; side < 2; side++) {
        /* side 0: missing right; side 1: missing left */
        if (side == 1 && n_miss == 0.0)
            break;
        double nl = n_acc;
        const double *left = acc;
        if (side == 1) {
            for (size_t k = 0; k < K; k++)
                with_miss[k] = acc[k] + miss[k];
            nl += n_miss;
            left = with_miss;
        }
        if (nl < msl || n - nl < msl)
            continue;
        double gain = split_score(left, nl, c->parent_sum, n, K) - base;
        int missing_left = side == 1 ? 1 : (n_miss == 0.0 && nl > n - nl);
        if (gain > best->gain) {
            best->gain = gain;
            best->feature = f;
            best->cut = cut;
            best->threshold = threshold;
            best->bin_lo = bin_lo;
            best->bin_hi = bin_hi;
            best->missing_left = missing_left;
            best->n_left = (size_t)nl;
        }
    }
}

/* Orders the levels present in the histogram by the mean of the target
 * component whose level means vary most (count-weighted), ties by code.
 * Returns the number of present levels. */
static size_t cat_order(fit_ctx *c, const feat_bins *fb, const double *h)
{
    size_t K = c->K, S = c->S;
    size_t n_present = 0;
    for (size_t b = 0; b < fb->n_bins; b++)
        if (h[b * S] > 0.0)
            fb->level_order[n_present++] = b;
    size_t comp = 0;
    if (K > 1) {
        double best_var = -1.0;
        double n = 0.0;
        for (size_t j = 0; j < n_present; j++)
            n += h[fb->level_order[j] * S];
        for (size_t k = 0; k < K; k++) {
            double s = 0.0, ss = 0.0;
            for (size_t j = 0; j < n_present; j++) {
                const double *hb = h + fb->level_order[j] * S;
                s += hb[1 + k];
                ss += hb[1 + k] * hb[1 + k] / hb[0];
            }
            double var = ss - (n > 0.0 ? s * s / n : 0.0);
            if (var > best_var) {
                best_var = var;
                comp = k;
            }
        }
    }
    for (size_t j = 0; j < n_present; j++) {
        const double *hb = h + fb->level_order[j] * S;
        fb->level_key[j] = hb[1 + comp] / hb[0];
    }
    /* insertion sort (stable: equal keys keep code order) */
    for (size_t j = 1; j < n_present; j++) {
        size_t lv = fb->level_order[j];
        double key = fb->level_key[j];
        size_t i = j;
        while (i > 0 && fb->level_key[i - 1] > key) {
            fb->level_order[i] = fb->level_order[i - 1];
            fb->level_key[i] = fb->level_key[i - 1];
            i--;
        }
        fb->level_order[i] = lv;
        fb->level_key[i] = key;
    }
    return n_present;
}

static void split_feature_cb(void *vctx, size_t fi)
{
    fit_ctx *c = vctx;
    int f = (int)fi;
    const feat_bins *fb = &c->fb[fi];
    size_t K = c->K, S = c->S;
    const double *h = c->job_hist + fb->hist_at * S;
    split_info *best = &c->feat_split[fi];
    best->gain = 0.0;
    best->feature = -1;
    double *acc = fb->scan, *miss = fb->scan + K;
    const double *hm = h + fb->n_bins * S;
    double n_miss = hm[0];
    for (size_t k = 0; k < K; k++) {
        miss[k] = hm[1 + k];
        acc[k] = 0.0;
    }
    double base = 0.0;
    for (size_t k = 0; k < K; k++)
        base += c->parent_sum[k] * c->parent_sum[k];
    base /= (double)c->job_n;
    double n_acc = 0.0;
    if (!fb->categorical) {
        for (size_t b = 0; b + 1 < fb->n_bins; b++) {
            const double *hb = h + b * S;
            if (hb[0] == 0.0)
                continue;
            n_acc += hb[0];
            for (size_t k = 0; k < K; k++)
                acc[k] += hb[1 + k];
            consider(c, best, f, b, fb->edges[b], b, b, acc, n_acc, miss, n_miss, base);
        }
        if (best->feature == f) {
            size_t next = best->cut + 1;
            while (next < fb->n_bins && h[next * S] == 0.0)
                next++;
            best->bin_hi = next;
        }
    } else {
        size_t n_present = cat_order(c, fb, h);
        for (size_t j = 0; j + 1 < n_present; j++) {
            const double *hb = h + fb->level_order[j] * S;
            n_acc += hb[0];
            for (size_t k = 0; k < K; k++)
                acc[k] += hb[1 + k];
            consider(c, best, f, j + 1, 0.0, 0, 0, acc, n_acc, miss, n_miss, base);
        }
    }
}

static unsigned job_threads(const fit_ctx *c, size_t n)
{
    unsigned t = c->ts->n_threads;
    if (t <= 1 || n * c->n_feat < PARALLEL_MIN_WORK)
        return 1;
    return t;
}

static void build_hist(fit_ctx *c, double *hist, size_t begin, size_t end)
{
    c->job_hist = hist;
    c->job_begin = begin;
    c->job_end = end;
    unsigned threads = job_threads(c, end - begin);
    c->n_groups = threads <= 1 ? 1 : (threads < c->n_feat ? threads : c->n_feat);
    gb_parallel_for(c->n_groups, threads, hist_group_cb, c);
}

/* ------------------------------------------------------------------------ */
/* Fitting: exact thresholds                                                */
/* ------------------------------------------------------------------------ */

/* The histogram search only tries cuts between bins; a better threshold may
 * lie inside a bin holding several values.  For every such bin the gain of
 * any cut inside it is bounded (interior_bound); bins whose bound reaches
 * the best histogram gain have their node rows gathered, sorted and scanned
 * value by value, so the chosen split is the exact best one, as CART's.
 * Thresholds sit midway between the node's neighbouring values. */

/* Sorts m (key, pos) pairs by key with a stable LSD radix sort (tmp arrays
 * of m slots); the sorted pairs end in keys / pos. */
static void radix_sort_pairs(uint64_t *keys, uint32_t *pos, uint64_t *tkeys,
                             uint32_t *tpos, size_t m)
{
    size_t count[256];
    uint64_t *k_in = keys, *k_out = tkeys;
    uint32_t *p_in = pos, *p_out = tpos;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < m; i++)
            count[(k_in[i] >> shift) & 0xff]++;
        if (m == 0 || count[(k_in[0] >> shift) & 0xff] == m)
            continue;
        size_t at = 0;
        for (size_t b = 0; b < 256; b++) {
            size_t n = count[b];
            count[b] = at;
            at += n;
        }
        for (size_t i = 0; i < m; i++) {
            size_t to = count[(k_in[i] >> shift) & 0xff]++;
            k_out[to] = k_in[i];
            p_out[to] = p_in[i];
        }
        uint64_t *ks = k_in;
        k_in = k_out;
        k_out = ks;
        uint32_t *ps = p_in;
        p_in = p_out;
        p_out = ps;
    }
    if (k_in != keys) {
        memcpy(keys, k_in, m * sizeof *keys);
        memcpy(pos, p_in, m * sizeof *pos);
    }
}

/* Left sums of component j of a prefix of k rows of a bin of m rows
 * summing to total, each row within [tmin, tmax]: [*lo, *hi]. */
static void prefix_range(double k, double m, double total, double tmin, double tmax,
                         double *lo, double *hi)
{
    double a = k * tmin, b = total - (m - k) * tmax;
    *lo = a > b ? a : b;
    a = k * tmax;
    b = total - (m - k) * tmin;
    *hi = a < b ? a : b;
}

/* Upper bound of the gain of any cut inside a bin of m >= 2 rows with
 * target sums bin (K), whose predecessors sum to acc over n_acc rows.  A cut
 * leaves a prefix of k rows (1 <= k <= m-1) on the left; each component of
 * its sums lies in prefix_range.  Those constraints make a polytope in
 * (k, sums) on which the gain (a sum of perspective functions) is jointly
 * convex, so its maximum is at a vertex: k = 1, k = m-1, or a k where one
 * component's two range constraints meet, with every component at an end of
 * its range.  Missing rows are tried on both sides. */
static double interior_bound(const fit_ctx *c, const double *acc, double n_acc,
                             double m, const double *bin, const double *miss,
                             double n_miss, const double *tmin, const double *tmax,
                             double base)
{
    size_t K = c->K;
    double n = (double)c->job_n, bound = -INFINITY;
    const double *parent = c->parent_sum;
    for (size_t v = 0; v < 2 + 2 * K; v++) {
        double k;
        if (v < 2) {
            k = v == 0 ? 1.0 : m - 1.0;
        } else {
            size_t j = (v - 2) / 2;
            double span = tmax[j] - tmin[j];
            if (!(span > 0.0))
                continue;
            k = (v % 2 == 0) ? (bin[j] - m * tmin[j]) / span
                             : (m * tmax[j] - bin[j]) / span;
            if (!(k > 1.0 && k < m - 1.0))
                continue;
        }
        for (int side = 0; side < 2; side++) {
            if (side == 1 && n_miss == 0.0)
                break;
            double nl = n_acc + k + (side ? n_miss : 0.0), nr = n - nl;
            if (nl <= 0.0 || nr <= 0.0)
                continue;
            double sum = 0.0;
            for (size_t j = 0; j < K; j++) {
                double qlo, qhi;
                prefix_range(k, m, bin[j], tmin[j], tmax[j], &qlo, &qhi);
                if (qhi < qlo) /* rounding at a vertex: the ranges touch */
                    qhi = qlo = 0.5 * (qlo + qhi);
                double left = acc[j] + (side ? miss[j] : 0.0);
                double a = left + qlo, b = left + qhi;
                double ga = a * a / nl + (parent[j] - a) * (parent[j] - a) / nr;
                double gb = b * b / nl + (parent[j] - b) * (parent[j] - b) / nr;
                sum += ga > gb ? ga : gb;
            }
            if (sum - base > bound)
                bound = sum - base;
        }
    }
    return bound;
}

/* Marks the bins of numeric feature f worth scanning row by row in the
 * current node (interior bound within rounding of c->job_gain) and counts
 * their rows into ent_n. */
static void mark_feature_cb(void *vctx, size_t f)
{
    fit_ctx *c = vctx;
    feat_bins *fb = &c->fb[f];
    fb->ent_n = 0;
    if (fb->categorical)
        return;
    size_t K = c->K, S = c->S;
    const double *h = c->job_hist + fb->hist_at * S;
    const double *lo = c->bin_lo + fb->hist_at, *hi = c->bin_hi + fb->hist_at;
    const double *tmin = c->node_tmin + c->job_node * K;
    const double *tmax = c->node_tmax + c->job_node * K;
    double *acc = fb->scan, *miss = fb->scan + K;
    const double *hm = h + fb->n_bins * S;
    double n_miss = hm[0], n_acc = 0.0, base = 0.0;
    for (size_t k = 0; k < K; k++) {
        miss[k] = hm[1 + k];
        acc[k] = 0.0;
        base += c->parent_sum[k] * c->parent_sum[k];
    }
    base /= (double)c->job_n;
    /* wider than the tolerance of ties in find_split */
    double floor_gain = c->job_gain - 1e-9 * (base + c->node_sse[c->job_node]);
    for (size_t b = 0; b < fb->n_bins; b++) {
        const double *hb = h + b * S;
        fb->gather[b] = 0;
        if (hb[0] >= 2.0 && hi[b] > lo[b] &&
            interior_bound(c, acc, n_acc, hb[0], hb + 1, miss, n_miss, tmin, tmax,
                           base) >= floor_gain) {
            fb->gather[b] = 1;
            fb->ent_n += (size_t)hb[0];
        }
        n_acc += hb[0];
        for (size_t k = 0; k < K; k++)
            acc[k] += hb[1 + k];
    }
}

/* Appends row `row` (at position i of order) to feature f's entries when
 * its bin b is marked. */
static inline void gather_row(fit_ctx *c, feat_bins *fb, size_t f, size_t row, size_t i,
                              size_t b)
{
    if (!fb->gather[b])
        return;
    size_t at = fb->ent_at + fb->ent_n++;
    c->ent_key[at] = double_key(c->ts->X[row * c->n_feat + f]);
    c->ent_pos[at] = (uint32_t)i;
}

/* Gathers, for the batch features of group `group`, the value and position
 * of every node row in a marked bin (rows in node order). */
static void gather_group_cb(void *vctx, size_t group)
{
    fit_ctx *c = vctx;
    size_t g0 = group * c->n_gather_feats / c->n_groups;
    size_t g1 = (group + 1) * c->n_gather_feats / c->n_groups;
    size_t F = c->n_feat;
    const size_t *feats = c->gather_feats;
    for (size_t g = g0; g < g1; g++)
        c->fb[feats[g]].ent_n = 0;
    for (size_t i = c->job_begin; i < c->job_end; i++) {
        size_t row = c->order[i];
        if (c->bins8 != NULL) {
            const unsigned char *rb = c->bins8 + row * F;
            for (size_t g = g0; g < g1; g++)
                gather_row(c, &c->fb[feats[g]], feats[g], row, i, rb[feats[g]]);
        } else {
            const uint16_t *rb = c->bins16 + row * F;
            for (size_t g = g0; g < g1; g++)
                gather_row(c, &c->fb[feats[g]], feats[g], row, i, rb[feats[g]]);
        }
    }
}

/* A scan over a numeric feature's node rows in value order, as blocks: a
 * bin not gathered is one block, a gathered bin one block per value. */
typedef struct rescan {
    fit_ctx *c;
    const feat_bins *fb;
    split_info *best;
    int f;
    double *acc, *miss;
    double n_acc, n_miss, base;
    size_t prev_bin; /* SIZE_MAX before the first block */
    double prev_x;   /* the previous block's largest value; NaN: unknown */
} rescan;

/* Adds a block of n rows of bin b whose values run from x_first to x_last
 * (NaN: unknown) with target sums t, first trying the cut before it. */
static void rescan_block(rescan *r, size_t b, double x_first, double x_last, double n,
                         const double *t)
{
    size_t K = r->c->K;
    if (r->prev_bin != SIZE_MAX && !(x_first <= r->prev_x)) {
        /* any threshold separating the blocks; partition places the final
         * one midway between the node's values */
        double thr = !isnan(r->prev_x) && !isnan(x_first)
                         ? edge_between(r->prev_x, x_first)
                         : r->fb->edges[r->prev_bin];
        consider(r->c, r->best, r->f, r->prev_bin, thr, r->prev_bin, b, r->acc,
                 r->n_acc, r->miss, r->n_miss, r->base);
    }
    for (size_t k = 0; k < K; k++)
        r->acc[k] += t[k];
    r->n_acc += n;
    r->prev_bin = b;
    r->prev_x = x_last;
}

/* Scans feature gather_feats[g] of the current node exactly (see above) and
 * replaces its histogram result. */
static void rescan_feature_cb(void *vctx, size_t g)
{
    fit_ctx *c = vctx;
    size_t f = c->gather_feats[g];
    feat_bins *fb = &c->fb[f];
    split_info *best = &c->feat_split[f];
    size_t K = c->K, S = c->S;
    const double *h = c->job_hist + fb->hist_at * S;
    const double *lo = c->bin_lo + fb->hist_at, *hi = c->bin_hi + fb->hist_at;
    radix_sort_pairs(c->ent_key + fb->ent_at, c->ent_pos + fb->ent_at,
                     c->ent_key_tmp + fb->ent_at, c->ent_pos_tmp + fb->ent_at,
                     fb->ent_n);
    rescan r = {c,   fb,  best, (int)f,   fb->scan, fb->scan + K,
                0.0, 0.0, 0.0,  SIZE_MAX, NAN};
    const double *hm = h + fb->n_bins * S;
    r.n_miss = hm[0];
    for (size_t k = 0; k < K; k++) {
        r.miss[k] = hm[1 + k];
        r.acc[k] = 0.0;
        r.base += c->parent_sum[k] * c->parent_sum[k];
    }
    r.base /= (double)c->job_n;
    split_info was = *best;
    best->gain = 0.0;
    best->feature = -1;
    size_t e = fb->ent_at, e_end = fb->ent_at + fb->ent_n;
    for (size_t b = 0; b < fb->n_bins; b++) {
        if (h[b * S] == 0.0)
            continue;
        if (!fb->gather[b]) {
            double x = lo[b] == hi[b] ? lo[b] : NAN;
            rescan_block(&r, b, x, x, h[b * S], h + b * S + 1);
            continue;
        }
        while (e < e_end) {
            double x = key_double(c->ent_key[e]);
            if (x > hi[b])
                break;
            /* rows of equal value never get a cut between them */
            rescan_block(&r, b, x, x, 1.0, c->tgt + (size_t)c->ent_pos[e] * K);
            e++;
        }
    }
    /* the cut after the last block leaves only missing rows on the right */
    if (r.prev_bin != SIZE_MAX && r.prev_bin + 1 < fb->n_bins)
        consider(c, best, (int)f, r.prev_bin, fb->edges[r.prev_bin], r.prev_bin,
                 fb->n_bins, r.acc, r.n_acc, r.miss, r.n_miss, r.base);
    if (best->feature < 0)
        *best = was; /* rounding lost the histogram's cut: keep it */
}

/* Makes the splits found on the node w's histogram exact (see above):
 * bins are gathered in batches of at most REFINE_BATCH_ROWS rows (or one
 * feature's rows when more).  GB_ENOMEM when the buffers cannot grow. */
static gb_status refine_splits(fit_ctx *c, const work_leaf *w)
{
    c->job_gain = 0.0;
    for (size_t f = 0; f < c->n_feat; f++)
        if (c->feat_split[f].feature >= 0 && c->feat_split[f].gain > c->job_gain)
            c->job_gain = c->feat_split[f].gain;
    c->job_node = w->node;
    unsigned threads = c->total_bins * c->K >= PARALLEL_MIN_WORK ? c->ts->n_threads : 1;
    gb_parallel_for(c->n_feat, threads, mark_feature_cb, c);
    size_t f = 0;
    while (f < c->n_feat) {
        size_t total = 0;
        c->n_gather_feats = 0;
        for (; f < c->n_feat; f++) {
            feat_bins *fb = &c->fb[f];
            size_t need = fb->ent_n;
            if (need == 0)
                continue;
            if (total > 0 && total + need > REFINE_BATCH_ROWS)
                break;
            fb->ent_at = total;
            total += need;
            c->gather_feats[c->n_gather_feats++] = f;
        }
        if (c->n_gather_feats == 0)
            continue;
        if (total > c->ent_cap) {
            size_t cap = total > 2 * c->ent_cap ? total : 2 * c->ent_cap;
            gb_free(c->ent_key);
            gb_free(c->ent_key_tmp);
            gb_free(c->ent_pos);
            gb_free(c->ent_pos_tmp);
            c->ent_key = gb_malloc_array(cap, sizeof *c->ent_key);
            c->ent_key_tmp = gb_malloc_array(cap, sizeof *c->ent_key_tmp);
            c->ent_pos = gb_malloc_array(cap, sizeof *c->ent_pos);
            c->ent_pos_tmp = gb_malloc_array(cap, sizeof *c->ent_pos_tmp);
            c->ent_cap = cap;
            if (c->ent_key == NULL || c->ent_key_tmp == NULL || c->ent_pos == NULL ||
                c->ent_pos_tmp == NULL) {
                c->ent_cap = 0;
                return GB_ENOMEM;
            }
        }
        c->job_begin = w->begin;
        c->job_end = w->end;
        threads = job_threads(c, w->end - w->begin);
        c->n_groups = threads <= 1
                          ? 1
                          : (threads < c->n_gather_feats ? threads : c->n_gather_feats);
        gb_parallel_for(c->n_groups, threads, gather_group_cb, c);
        gb_parallel_for(c->n_gather_feats,
                        total >= PARALLEL_MIN_WORK ? c->ts->n_threads : 1,
                        rescan_feature_cb, c);
    }
    return GB_OK;
}

/* Best split of a leaf from its histogram, refined to exact thresholds;
 * best->feature = -1 when none gains more than 1e-12 of the node's squared
 * error.  GB_ENOMEM when refinement cannot allocate. */
static gb_status find_split(fit_ctx *c, work_leaf *w)
{
    size_t n = w->end - w->begin;
    c->parent_sum = c->node_sum + w->node * c->K;
    c->job_hist = w->hist;
    c->job_n = n;
    unsigned threads = c->total_bins * c->K >= PARALLEL_MIN_WORK ? c->ts->n_threads : 1;
    gb_parallel_for(c->n_feat, threads, split_feature_cb, c);
    gb_status rc = refine_splits(c, w);
    if (rc != GB_OK)
        return rc;
    /* Ties break on the lower feature index: gains within rounding of the
     * best (1e-10 of the node's sum of squares) count as equal. */
    double sse = c->node_sse[w->node], base = 0.0, top = 0.0;
    for (size_t k = 0; k < c->K; k++)
        base += c->parent_sum[k] * c->parent_sum[k];
    base /= (double)n;
    for (size_t f = 0; f < c->n_feat; f++)
        if (c->feat_split[f].feature >= 0 && c->feat_split[f].gain > top)
            top = c->feat_split[f].gain;
    split_info best;
    memset(&best, 0, sizeof best);
    best.feature = -1;
    for (size_t f = 0; f < c->n_feat; f++)
        if (c->feat_split[f].feature >= 0 && top > 0.0 &&
            c->feat_split[f].gain >= top - 1e-10 * (base + sse)) {
            best = c->feat_split[f];
            break;
        }
    if (best.feature >= 0 && !(best.gain > 1e-12 * sse))
        best.feature = -1;
    w->best = best;
    return GB_OK;
}

/* ------------------------------------------------------------------------ */
/* Fitting: growth                                                          */
/* ------------------------------------------------------------------------ */

static double *hist_take(fit_ctx *c)
{
    if (c->n_free_hists > 0)
        return c->free_hists[--c->n_free_hists];
    if (c->n_hists_alloc == c->cap_hists) {
        size_t cap = c->cap_hists ? 2 * c->cap_hists : 16;
        double **all = gb_realloc_array(c->all_hists, cap, sizeof *all);
        if (all == NULL)
            return NULL;
        c->all_hists = all;
        double **fr = gb_realloc_array(c->free_hists, cap, sizeof *fr);
        if (fr == NULL)
            return NULL;
        c->free_hists = fr;
        c->cap_hists = cap;
    }
    double *h = gb_malloc_array(c->total_bins * c->S, sizeof *h);
    if (h == NULL)
        return NULL;
    c->all_hists[c->n_hists_alloc++] = h;
    return h;
}

static void hist_give(fit_ctx *c, double *h)
{
    if (h != NULL)
        c->free_hists[c->n_free_hists++] = h;
}

static gb_status node_add(fit_ctx *c, size_t n, size_t *id)
{
    if (c->n_nodes == c->cap_nodes) {
        size_t cap = c->cap_nodes ? 2 * c->cap_nodes : 64;
        grow_node *nodes = gb_realloc_array(c->nodes, cap, sizeof *nodes);
        if (nodes == NULL)
            return GB_ENOMEM;
        c->nodes = nodes;
        double *sums = gb_realloc_array(c->node_sum, cap * c->K, sizeof *sums);
        if (sums == NULL)
            return GB_ENOMEM;
        c->node_sum = sums;
        double *sse = gb_realloc_array(c->node_sse, cap, sizeof *sse);
        if (sse == NULL)
            return GB_ENOMEM;
        c->node_sse = sse;
        double *tmin = gb_realloc_array(c->node_tmin, cap * c->K, sizeof *tmin);
        if (tmin == NULL)
            return GB_ENOMEM;
        c->node_tmin = tmin;
        double *tmax = gb_realloc_array(c->node_tmax, cap * c->K, sizeof *tmax);
        if (tmax == NULL)
            return GB_ENOMEM;
        c->node_tmax = tmax;
        c->cap_nodes = cap;
    }
    grow_node *node = &c->nodes[c->n_nodes];
    memset(node, 0, sizeof *node);
    node->feature = -1;
    node->n = n;
    *id = c->n_nodes++;
    return GB_OK;
}

/* Nonzero when training row `row`, in bin b of the node's feature, goes
 * left; only rows of the bins around a numeric cut read their value. */
static int row_goes_left(const fit_ctx *c, const grow_node *node,
                         const unsigned char *cat_left, size_t row, size_t b)
{
    const feat_bins *fb = &c->fb[node->feature];
    if (b == fb->n_bins)
        return node->missing_left;
    if (fb->categorical)
        return cat_left[b];
    if (b < node->bin_lo)
        return 1;
    if (b > node->bin_hi)
        return 0;
    return c->ts->X[row * c->n_feat + (size_t)node->feature] <= node->threshold;
}

/* Squared error of a node from its sum of squares ss and sum of squared
 * component sums p over n rows; values within rounding noise of ss (1e-12
 * relative) count as 0, so constant targets never split. */
static double node_sse_of(double ss, double p, double n)
{
    if (n <= 0.0)
        return 0.0;
    double sse = ss - p / n;
    return sse > 1e-12 * ss ? sse : 0.0;
}

/* Stable partition of [begin, end) by the node's split; fills the children's
 * sums, squared errors and target ranges.  A numeric split's threshold is
 * then moved midway between the largest value sent left and the smallest
 * sent right among the rows compared by value (CART's midpoint rule; the
 * partition is the same). */
static void partition(fit_ctx *c, grow_node *node, const unsigned char *cat_left,
                      size_t begin, size_t end, size_t left_id, size_t right_id,
                      size_t *n_missing)
{
    const feat_bins *fb = &c->fb[node->feature];
    size_t K = c->K;
    double *sl = c->node_sum + left_id * K, *sr = c->node_sum + right_id * K;
    double *lmin = c->node_tmin + left_id * K, *lmax = c->node_tmax + left_id * K;
    double *rmin = c->node_tmin + right_id * K, *rmax = c->node_tmax + right_id * K;
    double ssl = 0.0, ssr = 0.0;
    memset(sl, 0, K * sizeof *sl);
    memset(sr, 0, K * sizeof *sr);
    for (size_t k = 0; k < K; k++) {
        lmin[k] = rmin[k] = INFINITY;
        lmax[k] = rmax[k] = -INFINITY;
    }
    size_t nl = begin, nr = 0, miss = 0;
    double left_max = -INFINITY, right_min = INFINITY;
    for (size_t i = begin; i < end; i++) {
        uint32_t row = c->order[i];
        size_t b = row_bin(c, row, (size_t)node->feature);
        if (b == fb->n_bins)
            miss++;
        else if (!fb->categorical && b >= node->bin_lo && b <= node->bin_hi) {
            double x = c->ts->X[(size_t)row * c->n_feat + (size_t)node->feature];
            if (x <= node->threshold)
                left_max = x > left_max ? x : left_max;
            else
                right_min = x < right_min ? x : right_min;
        }
        const double *t = c->tgt + i * K;
        double ss = 0.0;
        for (size_t k = 0; k < K; k++)
            ss += t[k] * t[k];
        if (row_goes_left(c, node, cat_left, row, b)) {
            for (size_t k = 0; k < K; k++) {
                sl[k] += t[k];
                lmin[k] = t[k] < lmin[k] ? t[k] : lmin[k];
                lmax[k] = t[k] > lmax[k] ? t[k] : lmax[k];
            }
            ssl += ss;
            c->order[nl] = row;
            memmove(c->tgt + nl * K, t, K * sizeof *t);
            nl++;
        } else {
            for (size_t k = 0; k < K; k++) {
                sr[k] += t[k];
                rmin[k] = t[k] < rmin[k] ? t[k] : rmin[k];
                rmax[k] = t[k] > rmax[k] ? t[k] : rmax[k];
            }
            ssr += ss;
            c->order_tmp[nr] = row;
            memcpy(c->tgt_tmp + nr * K, t, K * sizeof *t);
            nr++;
        }
    }
    memcpy(c->order + nl, c->order_tmp, nr * sizeof *c->order);
    memcpy(c->tgt + nl * K, c->tgt_tmp, nr * K * sizeof *c->tgt);
    double n_l = (double)(nl - begin), n_r = (double)nr;
    double pl = 0.0, pr = 0.0;
    for (size_t k = 0; k < K; k++) {
        pl += sl[k] * sl[k];
        pr += sr[k] * sr[k];
    }
    c->node_sse[left_id] = node_sse_of(ssl, pl, n_l);
    c->node_sse[right_id] = node_sse_of(ssr, pr, n_r);
    *n_missing = miss;
    if (!fb->categorical && left_max > -INFINITY && right_min < INFINITY)
        node->threshold = edge_between(left_max, right_min);
}

static int splittable(const fit_ctx *c, size_t node, unsigned depth)
{
    return c->n_feat > 0 && depth < c->p.max_depth &&
           c->nodes[node].n >= 2 * c->p.min_samples_leaf && c->node_sse[node] > 0.0;
}

static gb_status frontier_push(fit_ctx *c, const work_leaf *w)
{
    if (c->n_frontier == c->cap_frontier) {
        size_t cap = c->cap_frontier ? 2 * c->cap_frontier : 64;
        work_leaf *fr = gb_realloc_array(c->frontier, cap, sizeof *fr);
        if (fr == NULL)
            return GB_ENOMEM;
        c->frontier = fr;
        c->cap_frontier = cap;
    }
    c->frontier[c->n_frontier++] = *w;
    return GB_OK;
}

/* Splits the frontier leaf w; pushes its children that can split further. */
static gb_status split_leaf(fit_ctx *c, work_leaf *w, unsigned char *cat_left)
{
    gb_status rc;
    size_t left_id = 0, right_id = 0;
    grow_node *node = &c->nodes[w->node];
    const feat_bins *fb = &c->fb[w->best.feature];
    node->feature = w->best.feature;
    node->cut = w->best.cut;
    node->bin_lo = w->best.bin_lo;
    node->bin_hi = w->best.bin_hi;
    node->threshold = w->best.threshold;
    node->missing_left = w->best.missing_left;
    if (fb->categorical) {
        c->job_hist = w->hist;
        size_t n_present = cat_order(c, fb, w->hist + fb->hist_at * c->S);
        (void)n_present;
        memset(cat_left, 0, fb->n_bins);
        for (size_t j = 0; j < node->cut; j++)
            cat_left[fb->level_order[j]] = 1;
        /* keep the left set: the level order came from this node's
         * histogram, which is gone after the split */
        if (c->cat_sets_len + fb->n_bins > c->cat_sets_cap) {
            size_t cap = 2 * (c->cat_sets_len + fb->n_bins) + 64;
            unsigned char *sets = gb_realloc(c->cat_sets, cap);
            if (sets == NULL)
                return GB_ENOMEM;
            c->cat_sets = sets;
            c->cat_sets_cap = cap;
        }
        node->cat_at = c->cat_sets_len;
        memcpy(c->cat_sets + c->cat_sets_len, cat_left, fb->n_bins);
        c->cat_sets_len += fb->n_bins;
    }
    size_t n_left = w->best.n_left, n_right = node->n - n_left;
    if ((rc = node_add(c, n_left, &left_id)) != GB_OK ||
        (rc = node_add(c, n_right, &right_id)) != GB_OK)
        return rc;
    node = &c->nodes[w->node];
    node->left = left_id;
    node->right = right_id;
    size_t n_missing = 0;
    partition(c, node, cat_left, w->begin, w->end, left_id, right_id, &n_missing);
    node->n_missing = n_missing;
    if (c->nodes[left_id].n + c->nodes[right_id].n != node->n ||
        c->nodes[left_id].n != n_left)
        return GB_EINTERNAL;

    work_leaf child[2];
    memset(child, 0, sizeof child);
    child[0].node = left_id;
    child[0].begin = w->begin;
    child[0].end = w->begin + n_left;
    child[1].node = right_id;
    child[1].begin = w->begin + n_left;
    child[1].end = w->end;
    child[0].depth = child[1].depth = w->depth + 1;
    int want[2] = {splittable(c, left_id, w->depth + 1),
                   splittable(c, right_id, w->depth + 1)};
    double *parent_hist = w->hist;
    w->hist = NULL;
    if (want[0] || want[1]) {
        int small = n_left <= n_right ? 0 : 1, large = 1 - small;
        double *h = hist_take(c);
        if (h == NULL) {
            hist_give(c, parent_hist);
            return GB_ENOMEM;
        }
        build_hist(c, h, child[small].begin, child[small].end);
        child[small].hist = h;
        if (want[large]) {
            size_t total = c->total_bins * c->S;
            for (size_t i = 0; i < total; i++)
                parent_hist[i] -= h[i];
            child[large].hist = parent_hist;
            parent_hist = NULL;
        }
    }
    hist_give(c, parent_hist);
    for (int s = 0; s < 2; s++) {
        if (child[s].hist == NULL)
            continue;
        if (want[s] && (rc = find_split(c, &child[s])) != GB_OK) {
            hist_give(c, child[s].hist);
            return rc;
        }
        if (!want[s] || child[s].best.feature < 0) {
            hist_give(c, child[s].hist);
            continue;
        }
        /* a categorical split keeps its histogram: the level order it was
         * chosen with must be replayed exactly when it is applied */
        if (c->p.max_leaves > 0 &&
            c->n_hists_alloc - c->n_free_hists > c->max_live_hists &&
            !c->fb[child[s].best.feature].categorical) {
            hist_give(c, child[s].hist);
            child[s].hist = NULL;
        }
        if ((rc = frontier_push(c, &child[s])) != GB_OK) {
            hist_give(c, child[s].hist);
            return rc;
        }
    }
    return GB_OK;
}

/* Builds q_i (K components) for every row; validates targets. */
static gb_status build_targets(fit_ctx *c, gb_error *err)
{
    const gb_train_set *ts = c->ts;
    size_t K = c->K;
    double alpha = ts->alpha;
    for (size_t i = 0; i < c->n_rows; i++) {
        double *t = c->tgt + i * K;
        if (ts->task == GB_TASK_REGRESSION) {
            double y = alpha > 0.0 ? ts->y_value[i] : 0.0;
            double s = alpha < 1.0 ? ts->soft[i] : 0.0;
            if (!isfinite(y) || !isfinite(s))
                return gb_error_set(err, GB_EUNUSABLE,
                                    "tree: target of training row %zu is not a finite "
                                    "number",
                                    i + 1);
            t[0] = alpha * y + (1.0 - alpha) * s;
            if (alpha == 1.0)
                t[0] = y;
            else if (alpha == 0.0)
                t[0] = s;
            continue;
        }
        size_t nc = ts->n_classes;
        long y = -1;
        if (alpha > 0.0) {
            y = ts->y_class[i];
            if (y < 0 || (size_t)y >= nc)
                return gb_error_set(
                    err, GB_EUNUSABLE,
                    "tree: class label %ld of training row %zu is outside "
                    "0..%zu",
                    y, i + 1, nc - 1);
        }
        for (size_t k = (K == 1 ? 1 : 0); k < nc; k++) {
            double s = 0.0;
            if (alpha < 1.0) {
                s = ts->soft[i * nc + k];
                if (!(s >= 0.0 && s <= 1.0))
                    return gb_error_set(
                        err, GB_EUNUSABLE,
                        "tree: soft target %zu of training row %zu is not "
                        "a probability",
                        k + 1, i + 1);
            }
            double hard = y == (long)k ? 1.0 : 0.0;
            double v = alpha * hard + (1.0 - alpha) * s;
            if (alpha == 1.0)
                v = hard;
            else if (alpha == 0.0)
                v = s;
            t[K == 1 ? 0 : k] = v;
        }
    }
    return GB_OK;
}

static gb_status check_train_set(const gb_train_set *ts, gb_error *err)
{
    if (ts == NULL || (ts->n_features > 0 && (ts->X == NULL || ts->features == NULL)))
        return gb_error_set(err, GB_EUNUSABLE,
                            "tree: training set has no design matrix");
    if (ts->n_rows == 0)
        return gb_error_set(err, GB_EUNUSABLE, "tree: training set has no rows");
    if (ts->n_rows >= (size_t)UINT32_MAX)
        return gb_error_set(err, GB_ETOOLARGE,
                            "tree: %zu training rows exceed the limit of %u",
                            ts->n_rows, UINT32_MAX - 1);
    if (ts->n_features > (size_t)INT32_MAX)
        return gb_error_set(err, GB_ETOOLARGE, "tree: too many features");
    if (!(ts->alpha >= 0.0 && ts->alpha <= 1.0))
        return gb_error_set(err, GB_EUNUSABLE, "tree: alpha must be in [0, 1]");
    if (ts->task == GB_TASK_REGRESSION) {
        if (ts->alpha > 0.0 && ts->y_value == NULL)
            return gb_error_set(err, GB_EUNUSABLE,
                                "tree: alpha > 0 needs hard targets");
    } else if (ts->task == GB_TASK_BINARY || ts->task == GB_TASK_MULTICLASS) {
        if (ts->n_classes < 2 || ts->classes == NULL ||
            (ts->task == GB_TASK_BINARY && ts->n_classes != 2))
            return gb_error_set(err, GB_EUNUSABLE, "tree: bad number of classes (%zu)",
                                ts->n_classes);
        if (ts->alpha > 0.0 && ts->y_class == NULL)
            return gb_error_set(err, GB_EUNUSABLE, "tree: alpha > 0 needs hard labels");
    } else {
        return gb_error_set(err, GB_EUNUSABLE, "tree: the task must be resolved");
    }
    if (ts->alpha < 1.0 && ts->soft == NULL)
        return gb_error_set(err, GB_EUNUSABLE, "tree: alpha < 1 needs soft targets");
    for (size_t f = 0; f < ts->n_features; f++) {
        const gb_feature *feat = &ts->features[f];
        if (feat->kind == GB_FEAT_CATEGORICAL && feat->n_levels > 65535) {
            gb_error_set(err, GB_EUNUSABLE, "tree: feature '%s' has too many levels",
                         feat->name);
            gb_error_field(err, feat->name);
            return GB_EUNUSABLE;
        }
    }
    size_t F = ts->n_features;
    for (size_t i = 0; i < ts->n_rows; i++) {
        const double *row = ts->X + i * F;
        for (size_t f = 0; f < F; f++) {
            double x = row[f];
            if (isnan(x))
                continue;
            const gb_feature *feat = &ts->features[f];
            int cat = feat->kind == GB_FEAT_CATEGORICAL;
            int bad = cat ? !(x >= 0.0 && x < (double)feat->n_levels && x == floor(x))
                          : !isfinite(x);
            if (bad) {
                gb_error_set(err, GB_EUNUSABLE,
                             cat ? "tree: feature '%s' of training row %zu is not a "
                                   "level code"
                                 : "tree: feature '%s' of training row %zu is infinite",
                             feat->name, i + 1);
                gb_error_field(err, feat->name);
                return GB_EUNUSABLE;
            }
        }
    }
    return GB_OK;
}

static void fit_ctx_free(fit_ctx *c)
{
    if (c->fb != NULL) {
        for (size_t f = 0; f < c->n_feat; f++) {
            gb_free(c->fb[f].edges);
            gb_free(c->fb[f].cell);
            gb_free(c->fb[f].scan);
            gb_free(c->fb[f].level_order);
            gb_free(c->fb[f].level_key);
            gb_free(c->fb[f].gather);
        }
    }
    gb_free(c->fb);
    gb_free(c->bins8);
    gb_free(c->bins16);
    gb_free(c->hist_ptr);
    gb_free(c->order);
    gb_free(c->order_tmp);
    gb_free(c->tgt);
    gb_free(c->tgt_tmp);
    gb_free(c->nodes);
    gb_free(c->node_sum);
    gb_free(c->node_sse);
    gb_free(c->node_tmin);
    gb_free(c->node_tmax);
    for (size_t i = 0; i < c->n_hists_alloc; i++)
        gb_free(c->all_hists[i]);
    gb_free(c->all_hists);
    gb_free(c->free_hists);
    gb_free(c->frontier);
    gb_free(c->feat_split);
    gb_free(c->cat_sets);
    gb_free(c->bin_lo);
    gb_free(c->bin_hi);
    gb_free(c->chunk_lo);
    gb_free(c->chunk_hi);
    gb_free(c->ent_key);
    gb_free(c->ent_key_tmp);
    gb_free(c->ent_pos);
    gb_free(c->ent_pos_tmp);
    gb_free(c->gather_feats);
}

/* Turns the grown nodes (creation order) into the pre-order tree_impl. */
static gb_status assemble(fit_ctx *c, tree_impl **out)
{
    const gb_train_set *ts = c->ts;
    size_t n_out = ts->task == GB_TASK_REGRESSION ? 1 : ts->n_classes;
    tree_impl *t = gb_calloc(1, sizeof *t);
    size_t *stack = gb_malloc_array(c->n_nodes + 1, sizeof *stack);
    size_t *new_id = gb_malloc_array(c->n_nodes, sizeof *new_id);
    size_t n_levels_total = 0, n_leaves = 0;
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (c->nodes[i].feature < 0)
            n_leaves++;
        else if (c->fb[c->nodes[i].feature].categorical)
            n_levels_total += c->fb[c->nodes[i].feature].n_bins;
    }
    if (t == NULL || stack == NULL || new_id == NULL)
        goto nomem;
    t->params = c->p;
    t->nodes = gb_calloc(c->n_nodes, sizeof *t->nodes);
    t->values = gb_malloc_array(n_leaves * n_out, sizeof *t->values);
    t->left_levels = gb_calloc(n_levels_total + 1, 1);
    if (t->nodes == NULL || t->values == NULL || t->left_levels == NULL)
        goto nomem;
    t->n_nodes = c->n_nodes;
    /* pre-order numbering */
    size_t top = 0, next = 0;
    stack[top++] = 0;
    while (top > 0) {
        size_t g = stack[--top];
        new_id[g] = next++;
        if (c->nodes[g].feature >= 0) {
            stack[top++] = c->nodes[g].right;
            stack[top++] = c->nodes[g].left;
        }
    }
    size_t levels_at = 0, value_at = 0;
    for (size_t g = 0; g < c->n_nodes; g++) {
        const grow_node *gn = &c->nodes[g];
        tree_node *node = &t->nodes[new_id[g]];
        node->feature = gn->feature;
        node->n = gn->n;
        node->n_missing = gn->n_missing;
        node->missing_left = gn->missing_left;
        if (gn->feature < 0) {
            node->left = node->right = -1;
            node->value_at = value_at;
            double *v = t->values + value_at;
            const double *s = c->node_sum + g * c->K;
            double n = (double)gn->n;
            if (ts->task == GB_TASK_BINARY) {
                v[1] = s[0] / n;
                v[0] = 1.0 - v[1];
            } else {
                for (size_t k = 0; k < n_out; k++)
                    v[k] = s[k] / n;
            }
            value_at += n_out;
            continue;
        }
        node->left = (int32_t)new_id[gn->left];
        node->right = (int32_t)new_id[gn->right];
        const feat_bins *fb = &c->fb[gn->feature];
        if (fb->categorical) {
            node->n_levels = fb->n_bins;
            node->levels_at = levels_at;
            memcpy(t->left_levels + levels_at, c->cat_sets + gn->cat_at, fb->n_bins);
            levels_at += fb->n_bins;
        } else {
            node->threshold = gn->threshold;
        }
    }
    t->n_left_levels = levels_at;
    gb_free(stack);
    gb_free(new_id);
    *out = t;
    return GB_OK;
nomem:
    gb_free(stack);
    gb_free(new_id);
    gb_tree_impl_free(t);
    return GB_ENOMEM;
}

gb_status gb_tree_fit(const gb_param *params, size_t n_params, const gb_train_set *ts,
                      const gb_progress *progress, gb_model **out, gb_error *err)
{
    gb_status rc = GB_OK;
    fit_ctx c;
    memset(&c, 0, sizeof c);
    tree_impl *t = NULL;
    unsigned char *cat_left = NULL;
    gb_status *bin_status = NULL;

    if ((rc = gb_tree_params_parse(params, n_params, &c.p, err)) != GB_OK)
        return rc;
    if ((rc = check_train_set(ts, err)) != GB_OK)
        return rc;
    c.ts = ts;
    c.n_rows = ts->n_rows;
    c.n_feat = ts->n_features;
    c.K = ts->task == GB_TASK_MULTICLASS ? ts->n_classes : 1;
    c.S = c.K + 1;
    gb_progress_report(progress, "tree: binning", 0.0);

    size_t max_levels = 1;
    c.fb = gb_calloc(c.n_feat ? c.n_feat : 1, sizeof *c.fb);
    c.feat_split = gb_calloc(c.n_feat ? c.n_feat : 1, sizeof *c.feat_split);
    bin_status = gb_calloc(c.n_feat ? c.n_feat : 1, sizeof *bin_status);
    if (c.fb == NULL || c.feat_split == NULL || bin_status == NULL)
        goto nomem;
    for (size_t f = 0; f < c.n_feat; f++) {
        feat_bins *fb = &c.fb[f];
        const gb_feature *feat = &ts->features[f];
        fb->categorical = feat->kind == GB_FEAT_CATEGORICAL;
        fb->scan = gb_malloc_array(3 * c.K, sizeof *fb->scan);
        if (fb->scan == NULL)
            goto nomem;
        if (fb->categorical) {
            fb->n_bins = feat->n_levels;
            if (fb->n_bins + 1 > max_levels)
                max_levels = fb->n_bins + 1;
            fb->level_order = gb_malloc_array(fb->n_bins + 1, sizeof *fb->level_order);
            fb->level_key = gb_malloc_array(fb->n_bins + 1, sizeof *fb->level_key);
            if (fb->level_order == NULL || fb->level_key == NULL)
                goto nomem;
        } else {
            fb->edges = gb_malloc_array(c.p.max_bins, sizeof *fb->edges);
            fb->cell = gb_malloc_array(BIN_CELLS + 1, sizeof *fb->cell);
            fb->gather = gb_calloc(c.p.max_bins + 1, 1);
            if (fb->edges == NULL || fb->cell == NULL || fb->gather == NULL)
                goto nomem;
        }
    }
    c.hist_ptr = gb_calloc(c.n_feat ? c.n_feat : 1, sizeof *c.hist_ptr);
    if (c.hist_ptr == NULL)
        goto nomem;
    if (max_levels > 256)
        c.bins16 =
            gb_malloc_array(c.n_rows * (c.n_feat ? c.n_feat : 1), sizeof *c.bins16);
    else
        c.bins8 = gb_malloc_array(c.n_rows, c.n_feat ? c.n_feat : 1);
    if (c.bins8 == NULL && c.bins16 == NULL)
        goto nomem;
    bin_job bj = {&c, bin_status};
    gb_parallel_for(c.n_feat, ts->n_threads, bin_feature_cb, &bj);
    for (size_t f = 0; f < c.n_feat; f++)
        if (bin_status[f] != GB_OK)
            goto nomem;
    for (size_t f = 0; f < c.n_feat; f++) {
        c.fb[f].hist_at = c.total_bins;
        c.total_bins += c.fb[f].n_bins + 1;
    }
    c.chunk_lo = gb_malloc_array(BIN_CHUNKS * c.total_bins + 1, sizeof *c.chunk_lo);
    c.chunk_hi = gb_malloc_array(BIN_CHUNKS * c.total_bins + 1, sizeof *c.chunk_hi);
    c.bin_lo = gb_malloc_array(c.total_bins + 1, sizeof *c.bin_lo);
    c.bin_hi = gb_malloc_array(c.total_bins + 1, sizeof *c.bin_hi);
    c.gather_feats = gb_malloc_array(c.n_feat + 1, sizeof *c.gather_feats);
    if (c.chunk_lo == NULL || c.chunk_hi == NULL || c.bin_lo == NULL ||
        c.bin_hi == NULL || c.gather_feats == NULL)
        goto nomem;
    gb_parallel_for(BIN_CHUNKS, ts->n_threads, bin_rows_cb, &bj);
    /* min and max are exact in any order: merging chunks is deterministic */
    for (size_t j = 0; j < c.total_bins; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < BIN_CHUNKS; k++) {
            lo = fmin(lo, c.chunk_lo[k * c.total_bins + j]);
            hi = fmax(hi, c.chunk_hi[k * c.total_bins + j]);
        }
        c.bin_lo[j] = lo;
        c.bin_hi[j] = hi;
    }
    gb_free(c.chunk_lo);
    gb_free(c.chunk_hi);
    c.chunk_lo = c.chunk_hi = NULL;
    if (gb_progress_cancelled(progress)) {
        rc = gb_error_set(err, GB_ECANCELLED, "tree: fit cancelled");
        goto out;
    }

    c.order = gb_malloc_array(c.n_rows, sizeof *c.order);
    c.order_tmp = gb_malloc_array(c.n_rows, sizeof *c.order_tmp);
    c.tgt = gb_malloc_array(c.n_rows * c.K, sizeof *c.tgt);
    c.tgt_tmp = gb_malloc_array(c.n_rows * c.K, sizeof *c.tgt_tmp);
    cat_left = gb_calloc(max_levels, 1);
    if (c.order == NULL || c.order_tmp == NULL || c.tgt == NULL || c.tgt_tmp == NULL ||
        cat_left == NULL)
        goto nomem;
    for (size_t i = 0; i < c.n_rows; i++)
        c.order[i] = (uint32_t)i;
    if ((rc = build_targets(&c, err)) != GB_OK)
        goto out;
    c.max_live_hists = HIST_BUDGET_BYTES / (c.total_bins * c.S * sizeof(double) + 1);
    if (c.max_live_hists < 8)
        c.max_live_hists = 8;
    size_t root = 0;
    if (node_add(&c, c.n_rows, &root) != GB_OK)
        goto nomem;
    {
        double ss = 0.0;
        double *s = c.node_sum;
        memset(s, 0, c.K * sizeof *s);
        for (size_t k = 0; k < c.K; k++) {
            c.node_tmin[k] = INFINITY;
            c.node_tmax[k] = -INFINITY;
        }
        for (size_t i = 0; i < c.n_rows; i++)
            for (size_t k = 0; k < c.K; k++) {
                double v = c.tgt[i * c.K + k];
                s[k] += v;
                ss += v * v;
                c.node_tmin[k] = fmin(c.node_tmin[k], v);
                c.node_tmax[k] = fmax(c.node_tmax[k], v);
            }
        double p = 0.0;
        for (size_t k = 0; k < c.K; k++)
            p += s[k] * s[k];
        c.node_sse[0] = node_sse_of(ss, p, (double)c.n_rows);
    }
    gb_progress_report(progress, "tree: growing", 0.05);
    if (splittable(&c, 0, 0)) {
        work_leaf w;
        memset(&w, 0, sizeof w);
        w.node = 0;
        w.begin = 0;
        w.end = c.n_rows;
        w.hist = hist_take(&c);
        if (w.hist == NULL)
            goto nomem;
        build_hist(&c, w.hist, 0, c.n_rows);
        if (find_split(&c, &w) != GB_OK) {
            hist_give(&c, w.hist);
            goto nomem;
        }
        if (w.best.feature >= 0) {
            if (frontier_push(&c, &w) != GB_OK) {
                hist_give(&c, w.hist);
                goto nomem;
            }
        } else {
            hist_give(&c, w.hist);
        }
    }
    size_t n_leaves = 1;
    double expect_leaves = c.p.max_leaves
                               ? (double)c.p.max_leaves
                               : fmin(ldexp(1.0, (int)c.p.max_depth), (double)c.n_rows);
    while (c.n_frontier > 0 && (c.p.max_leaves == 0 || n_leaves < c.p.max_leaves)) {
        if (gb_progress_cancelled(progress)) {
            rc = gb_error_set(err, GB_ECANCELLED, "tree: fit cancelled");
            goto out;
        }
        size_t pick = c.n_frontier - 1;
        if (c.p.max_leaves) {
            pick = 0;
            for (size_t i = 1; i < c.n_frontier; i++)
                if (c.frontier[i].best.gain > c.frontier[pick].best.gain)
                    pick = i;
        }
        work_leaf w = c.frontier[pick];
        memmove(c.frontier + pick, c.frontier + pick + 1,
                (c.n_frontier - pick - 1) * sizeof *c.frontier);
        c.n_frontier--;
        if (w.hist == NULL) {
            w.hist = hist_take(&c);
            if (w.hist == NULL)
                goto nomem;
            build_hist(&c, w.hist, w.begin, w.end);
        }
        rc = split_leaf(&c, &w, cat_left);
        if (rc == GB_ENOMEM)
            goto nomem;
        if (rc != GB_OK) {
            rc = gb_error_set(err, rc, "tree: internal error while splitting");
            goto out;
        }
        n_leaves++;
        gb_progress_report(progress, "tree: growing",
                           0.05 + 0.95 * fmin(1.0, (double)n_leaves / expect_leaves));
    }
    for (size_t i = 0; i < c.n_frontier; i++)
        hist_give(&c, c.frontier[i].hist);
    c.n_frontier = 0;

    if (assemble(&c, &t) != GB_OK)
        goto nomem;
    gb_tree_measure(t);
    gb_model *m =
        gb_tree_model_create(t, ts->task, ts->features, ts->n_features, ts->classes,
                             ts->task == GB_TASK_REGRESSION ? 0 : ts->n_classes, err);
    t = NULL; /* owned (or freed) by gb_model_create */
    if (m == NULL) {
        rc = err != NULL && err->code != GB_OK ? err->code : GB_ENOMEM;
        goto out;
    }
    gb_progress_report(progress, "tree: done", 1.0);
    *out = m;
    rc = GB_OK;
    goto out;

nomem:
    rc = gb_error_set(err, GB_ENOMEM,
                      "tree: out of memory fitting %zu rows x %zu features", ts->n_rows,
                      ts->n_features);
out:
    gb_tree_impl_free(t);
    gb_free(cat_left);
    gb_free(bin_status);
    fit_ctx_free(&c);
    return rc;
}
