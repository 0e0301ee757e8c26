/*
 * treeshap.c - the generic forest and its exact path-dependent TreeSHAP
 * (Lundberg et al. 2018, Algorithm 2).
 * Layer: core/model.
 */
#include "core/model/treeshap.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"

/* Deepest tree accepted (bounds recursion and the path buffer). */
#define GB_FOREST_MAX_DEPTH 512
/* Rows per parallel task. */
#define GB_SHAP_BLOCK 32

typedef struct fnode {
    int32_t feature;     /* -1 = leaf */
    int32_t left, right; /* absolute node indices */
    double threshold;
    double cover;
    size_t cats_at, n_cats; /* sorted codes in forest->cats */
    size_t value_at;        /* leaf: n_leaf values in forest->values */
    unsigned char missing_left, zero_missing, categorical, cats_left;
} fnode;

typedef struct ftree {
    size_t root, n_nodes;
    size_t output0, n_leaf;
    size_t expected_at; /* n_leaf expected values in forest->values */
    unsigned depth;     /* edges on the longest root-leaf path */
} ftree;

struct gb_forest {
    size_t n_features, n_outputs;
    int split_lt, float32;
    double zero_threshold; /* |x| <= this reads as 0; 0 = off */
    double *base;
    ftree *trees;
    size_t n_trees, cap_trees;
    fnode *nodes;
    size_t n_nodes, cap_nodes;
    double *values;
    size_t n_values, cap_values;
    int32_t *cats;
    size_t n_cats, cap_cats;
    unsigned max_depth;
};

/* ---- building ------------------------------------------------------------- */

gb_forest *gb_forest_create(size_t n_features, size_t n_outputs, const double *base,
                            int split_lt, int float32, gb_error *err)
{
    if (n_outputs == 0) {
        gb_error_set(err, GB_EUNUSABLE, "a forest needs at least one output");
        return NULL;
    }
    gb_forest *f = gb_calloc(1, sizeof *f);
    if (f == NULL || (f->base = gb_calloc(n_outputs, sizeof *f->base)) == NULL) {
        gb_free(f);
        gb_error_set(err, GB_ENOMEM, "out of memory creating a forest");
        return NULL;
    }
    f->n_features = n_features;
    f->n_outputs = n_outputs;
    f->split_lt = split_lt != 0;
    f->float32 = float32 != 0;
    if (base != NULL)
        memcpy(f->base, base, n_outputs * sizeof *base);
    return f;
}

void gb_forest_free(gb_forest *forest)
{
    if (forest == NULL)
        return;
    gb_free(forest->base);
    gb_free(forest->trees);
    gb_free(forest->nodes);
    gb_free(forest->values);
    gb_free(forest->cats);
    gb_free(forest);
}

void gb_forest_set_zero_threshold(gb_forest *forest, double zero_threshold)
{
    forest->zero_threshold = zero_threshold > 0 ? zero_threshold : 0;
}

size_t gb_forest_n_trees(const gb_forest *forest)
{
    return forest->n_trees;
}
size_t gb_forest_n_features(const gb_forest *forest)
{
    return forest->n_features;
}
size_t gb_forest_n_outputs(const gb_forest *forest)
{
    return forest->n_outputs;
}

/* Grows *arr (of *cap items of size sz) to hold need items. */
static int reserve(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = gb_realloc_array(*arr, c, sz);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

gb_status gb_forest_add_tree(gb_forest *forest, const gb_forest_node *nodes,
                             size_t n_nodes, size_t output0, size_t n_leaf,
                             gb_error *err)
{
    gb_status rc = GB_OK;
    unsigned char *reached = NULL;
    unsigned *depth = NULL;
    double *mean = NULL;
    size_t t = forest->n_trees;

    if (n_nodes == 0 || n_nodes > INT32_MAX)
        return gb_error_set(err, GB_EUNUSABLE, "tree %zu has %zu nodes", t, n_nodes);
    if (n_leaf == 0 || output0 >= forest->n_outputs ||
        n_leaf > forest->n_outputs - output0)
        return gb_error_set(err, GB_EUNUSABLE,
                            "tree %zu writes outputs %zu..%zu of a %zu-output forest",
                            t, output0, output0 + n_leaf, forest->n_outputs);
    reached = gb_calloc(n_nodes, 1);
    depth = gb_calloc(n_nodes, sizeof *depth);
    mean = gb_malloc_array(n_nodes * n_leaf, sizeof *mean);
    if (reached == NULL || depth == NULL || mean == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory adding tree %zu", t);
        goto out;
    }
    /* Validate everything before touching the forest. */
    size_t n_new_cats = 0, n_new_values = n_leaf;
    unsigned tree_depth = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        const gb_forest_node *nd = nodes + i;
        if (!isfinite(nd->cover) || nd->cover < 0) {
            rc = gb_error_set(err, GB_EUNUSABLE, "tree %zu node %zu: cover %g", t, i,
                              nd->cover);
            goto out;
        }
        if (nd->feature < 0) {
            if (nd->value == NULL) {
                rc = gb_error_set(err, GB_EUNUSABLE, "tree %zu leaf %zu has no value",
                                  t, i);
                goto out;
            }
            for (size_t k = 0; k < n_leaf; k++)
                if (!isfinite(nd->value[k])) {
                    rc = gb_error_set(err, GB_EUNUSABLE,
                                      "tree %zu leaf %zu: value is not finite", t, i);
                    goto out;
                }
            n_new_values += n_leaf;
            continue;
        }
        if ((size_t)nd->feature >= forest->n_features) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "tree %zu node %zu splits on feature %d of %zu", t, i,
                              (int)nd->feature, forest->n_features);
            goto out;
        }
        if (nd->left <= (int32_t)i || nd->right <= (int32_t)i ||
            (size_t)nd->left >= n_nodes || (size_t)nd->right >= n_nodes ||
            nd->left == nd->right) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "tree %zu node %zu: children %d and %d must be distinct "
                              "nodes after it",
                              t, i, (int)nd->left, (int)nd->right);
            goto out;
        }
        if (reached[nd->left]++ || reached[nd->right]++) {
            rc = gb_error_set(err, GB_EUNUSABLE, "tree %zu: node %d has two parents", t,
                              (int)(reached[nd->left] > 1 ? nd->left : nd->right));
            goto out;
        }
        if (!(nd->cover > 0)) {
            rc = gb_error_set(err, GB_EUNUSABLE,
                              "tree %zu node %zu: an inner node needs a positive cover",
                              t, i);
            goto out;
        }
        if (nd->categorical || nd->n_cats > 0) {
            for (size_t c = 0; c < nd->n_cats; c++)
                if (nd->cats[c] < 0) {
                    rc = gb_error_set(err, GB_EUNUSABLE,
                                      "tree %zu node %zu: negative category %d", t, i,
                                      (int)nd->cats[c]);
                    goto out;
                }
            n_new_cats += nd->n_cats;
        } else if (!isfinite(nd->threshold)) {
            rc = gb_error_set(err, GB_EUNUSABLE, "tree %zu node %zu: threshold %g", t,
                              i, nd->threshold);
            goto out;
        }
        unsigned d = depth[i] + 1;
        if (d > GB_FOREST_MAX_DEPTH) {
            rc = gb_error_set(err, GB_EUNUSABLE, "tree %zu is deeper than %d", t,
                              GB_FOREST_MAX_DEPTH);
            goto out;
        }
        depth[nd->left] = depth[nd->right] = d;
        if (d > tree_depth)
            tree_depth = d;
    }
    /* Expected value of every node, bottom-up (children follow parents). */
    for (size_t i = n_nodes; i-- > 0;) {
        const gb_forest_node *nd = nodes + i;
        double *mi = mean + i * n_leaf;
        if (nd->feature < 0) {
            memcpy(mi, nd->value, n_leaf * sizeof *mi);
            continue;
        }
        const double *ml = mean + (size_t)nd->left * n_leaf;
        const double *mr = mean + (size_t)nd->right * n_leaf;
        double cl = nodes[nd->left].cover, cr = nodes[nd->right].cover;
        for (size_t k = 0; k < n_leaf; k++)
            mi[k] = (ml[k] * cl + mr[k] * cr) / nd->cover;
    }
    if (reserve((void **)&forest->trees, &forest->cap_trees, t + 1,
                sizeof *forest->trees) ||
        reserve((void **)&forest->nodes, &forest->cap_nodes, forest->n_nodes + n_nodes,
                sizeof *forest->nodes) ||
        reserve((void **)&forest->values, &forest->cap_values,
                forest->n_values + n_new_values, sizeof *forest->values) ||
        reserve((void **)&forest->cats, &forest->cap_cats, forest->n_cats + n_new_cats,
                sizeof *forest->cats)) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory adding tree %zu", t);
        goto out;
    }
    /* Commit (no failure past this point). */
    size_t base = forest->n_nodes;
    ftree *tr = forest->trees + t;
    tr->root = base;
    tr->n_nodes = n_nodes;
    tr->output0 = output0;
    tr->n_leaf = n_leaf;
    tr->depth = tree_depth;
    tr->expected_at = forest->n_values;
    memcpy(forest->values + forest->n_values, mean, n_leaf * sizeof *mean);
    forest->n_values += n_leaf;
    for (size_t i = 0; i < n_nodes; i++) {
        const gb_forest_node *nd = nodes + i;
        fnode *fn = forest->nodes + base + i;
        memset(fn, 0, sizeof *fn);
        fn->feature = nd->feature < 0 ? -1 : nd->feature;
        fn->cover = nd->cover;
        if (nd->feature < 0) {
            fn->left = fn->right = -1;
            fn->value_at = forest->n_values;
            memcpy(forest->values + forest->n_values, nd->value,
                   n_leaf * sizeof *nd->value);
            forest->n_values += n_leaf;
            continue;
        }
        fn->left = (int32_t)(base + (size_t)nd->left);
        fn->right = (int32_t)(base + (size_t)nd->right);
        fn->threshold = nd->threshold;
        fn->missing_left = nd->missing_left != 0;
        fn->zero_missing = nd->zero_missing != 0;
        if (nd->categorical || nd->n_cats > 0) {
            fn->categorical = 1;
            fn->cats_left = nd->cats_left != 0;
            fn->cats_at = forest->n_cats;
            fn->n_cats = nd->n_cats;
            if (nd->n_cats > 0) {
                memcpy(forest->cats + forest->n_cats, nd->cats,
                       nd->n_cats * sizeof *nd->cats);
                qsort(forest->cats + forest->n_cats, nd->n_cats, sizeof *forest->cats,
                      cmp_i32);
            }
            forest->n_cats += nd->n_cats;
        }
    }
    forest->n_nodes += n_nodes;
    forest->n_trees++;
    if (tree_depth > forest->max_depth)
        forest->max_depth = tree_depth;
out:
    gb_free(mean);
    gb_free(depth);
    gb_free(reached);
    return rc;
}

/* ---- scoring -------------------------------------------------------------- */

static inline int goes_left(const gb_forest *f, const fnode *nd, double x)
{
    if (fabs(x) <= f->zero_threshold)
        x = 0.0;
    if (isnan(x))
        return nd->missing_left;
    if (nd->categorical) {
        int listed = 0;
        if (x >= 0 && x < 2147483648.0) {
            int32_t code = (int32_t)x;
            listed = nd->n_cats > 0 && bsearch(&code, f->cats + nd->cats_at, nd->n_cats,
                                               sizeof code, cmp_i32) != NULL;
        }
        return nd->cats_left ? listed : !listed;
    }
    if (nd->zero_missing && x == 0.0)
        return nd->missing_left;
    if (f->float32)
        x = (double)(float)x;
    return f->split_lt ? x < nd->threshold : x <= nd->threshold;
}

void gb_forest_predict(const gb_forest *forest, const double *X, size_t n_rows,
                       double *out)
{
    size_t nf = forest->n_features, no = forest->n_outputs;
    for (size_t i = 0; i < n_rows; i++) {
        const double *x = X + i * nf;
        double *o = out + i * no;
        memcpy(o, forest->base, no * sizeof *o);
        for (size_t t = 0; t < forest->n_trees; t++) {
            const ftree *tr = forest->trees + t;
            const fnode *nd = forest->nodes + tr->root;
            while (nd->feature >= 0)
                nd = forest->nodes +
                     (goes_left(forest, nd, x[nd->feature]) ? nd->left : nd->right);
            const double *v = forest->values + nd->value_at;
            for (size_t k = 0; k < tr->n_leaf; k++)
                o[tr->output0 + k] += v[k];
        }
    }
}

void gb_forest_expected(const gb_forest *forest, double *bias)
{
    memcpy(bias, forest->base, forest->n_outputs * sizeof *bias);
    for (size_t t = 0; t < forest->n_trees; t++) {
        const ftree *tr = forest->trees + t;
        for (size_t k = 0; k < tr->n_leaf; k++)
            bias[tr->output0 + k] += forest->values[tr->expected_at + k];
    }
}

/* ---- TreeSHAP ------------------------------------------------------------- */

typedef struct path_elem {
    int32_t feature;
    double zero_fraction; /* share of cover flowing this way without the feature */
    double one_fraction;  /* 1 if x follows this way, else 0 */
    double pweight;       /* permutation weight */
} path_elem;

static void path_extend(path_elem *path, unsigned depth, double zero_fraction,
                        double one_fraction, int32_t feature)
{
    path[depth].feature = feature;
    path[depth].zero_fraction = zero_fraction;
    path[depth].one_fraction = one_fraction;
    path[depth].pweight = depth == 0 ? 1.0 : 0.0;
    for (unsigned i = depth; i-- > 0;) {
        path[i + 1].pweight += one_fraction * path[i].pweight * (i + 1) / (depth + 1);
        path[i].pweight = zero_fraction * path[i].pweight * (depth - i) / (depth + 1);
    }
}

static void path_unwind(path_elem *path, unsigned depth, unsigned index)
{
    double one = path[index].one_fraction, zero = path[index].zero_fraction;
    double next_one_portion = path[depth].pweight;
    for (unsigned i = depth; i-- > 0;) {
        if (one != 0) {
            double tmp = path[i].pweight;
            path[i].pweight = next_one_portion * (depth + 1) / ((i + 1) * one);
            next_one_portion = tmp - path[i].pweight * zero * (depth - i) / (depth + 1);
        } else {
            path[i].pweight = path[i].pweight * (depth + 1) / (zero * (depth - i));
        }
    }
    for (unsigned i = index; i < depth; i++) {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

static double path_unwound_sum(const path_elem *path, unsigned depth, unsigned index)
{
    double one = path[index].one_fraction, zero = path[index].zero_fraction;
    double next_one_portion = path[depth].pweight, total = 0;
    for (unsigned i = depth; i-- > 0;) {
        if (one != 0) {
            double tmp = next_one_portion * (depth + 1) / ((i + 1) * one);
            total += tmp;
            next_one_portion = path[i].pweight - tmp * zero * (depth - i) / (depth + 1);
        } else if (zero != 0) {
            total += path[i].pweight * (depth + 1) / (zero * (depth - i));
        }
    }
    return total;
}

typedef struct shap_walk {
    const gb_forest *f;
    const ftree *tree;
    const double *x;
    double *phi;   /* this row's n_outputs x (n_features + 1) block */
    size_t stride; /* n_features + 1 */
} shap_walk;

static void shap_recurse(const shap_walk *w, const fnode *nd, path_elem *parent_path,
                         unsigned depth, double zero_fraction, double one_fraction,
                         int32_t feature)
{
    path_elem *path = parent_path + depth;
    if (depth > 0)
        memcpy(path, parent_path, depth * sizeof *path);
    path_extend(path, depth, zero_fraction, one_fraction, feature);
    const gb_forest *f = w->f;
    if (nd->feature < 0) {
        const double *v = f->values + nd->value_at;
        size_t n_leaf = w->tree->n_leaf;
        double *phi0 = w->phi + w->tree->output0 * w->stride;
        for (unsigned i = 1; i <= depth; i++) {
            double s = path_unwound_sum(path, depth, i) *
                       (path[i].one_fraction - path[i].zero_fraction);
            for (size_t k = 0; k < n_leaf; k++)
                phi0[k * w->stride + (size_t)path[i].feature] += s * v[k];
        }
        return;
    }
    int left = goes_left(f, nd, w->x[nd->feature]);
    const fnode *hot = f->nodes + (left ? nd->left : nd->right);
    const fnode *cold = f->nodes + (left ? nd->right : nd->left);
    double hot_zero = hot->cover / nd->cover, cold_zero = cold->cover / nd->cover;
    double incoming_zero = 1, incoming_one = 1;
    unsigned index = 0;
    while (index <= depth && path[index].feature != nd->feature)
        index++;
    if (index <= depth) {
        incoming_zero = path[index].zero_fraction;
        incoming_one = path[index].one_fraction;
        path_unwind(path, depth, index);
        depth--;
    }
    shap_recurse(w, hot, path, depth + 1, hot_zero * incoming_zero, incoming_one,
                 nd->feature);
    /* A cold branch without cover carries no weight (all its permutation
     * weights are zero), and unwinding it would divide by zero. */
    if (cold_zero * incoming_zero > 0)
        shap_recurse(w, cold, path, depth + 1, cold_zero * incoming_zero, 0,
                     nd->feature);
}

typedef struct shap_job {
    const gb_forest *f;
    const double *X;
    size_t n_rows;
    double *phi;
    size_t path_len;
    double *bias; /* n_outputs */
    atomic_int failed;
} shap_job;

static void shap_block_cb(void *ctx, size_t task)
{
    shap_job *job = ctx;
    const gb_forest *f = job->f;
    size_t nf = f->n_features, no = f->n_outputs, stride = nf + 1;
    path_elem *path = gb_malloc_array(job->path_len, sizeof *path);
    if (path == NULL) {
        atomic_store(&job->failed, 1);
        return;
    }
    size_t r0 = task * GB_SHAP_BLOCK;
    size_t r1 = r0 + GB_SHAP_BLOCK < job->n_rows ? r0 + GB_SHAP_BLOCK : job->n_rows;
    for (size_t i = r0; i < r1; i++) {
        double *phi = job->phi + i * no * stride;
        memset(phi, 0, no * stride * sizeof *phi);
        for (size_t k = 0; k < no; k++)
            phi[k * stride + nf] = job->bias[k];
        shap_walk w = {f, NULL, job->X + i * nf, phi, stride};
        for (size_t t = 0; t < f->n_trees; t++) {
            w.tree = f->trees + t;
            const fnode *root = f->nodes + w.tree->root;
            if (root->feature < 0)
                continue; /* a stump adds only to the bias */
            shap_recurse(&w, root, path, 0, 1, 1, -1);
        }
    }
    gb_free(path);
}

gb_status gb_forest_treeshap(const gb_forest *forest, const double *X, size_t n_rows,
                             unsigned n_threads, double *phi, gb_error *err)
{
    if (n_rows == 0)
        return GB_OK;
    size_t d = forest->max_depth;
    shap_job job = {forest, X, n_rows, phi, (d + 2) * (d + 3) / 2, NULL, 0};
    job.bias = gb_malloc_array(forest->n_outputs, sizeof *job.bias);
    if (job.bias == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory computing SHAP values");
    gb_forest_expected(forest, job.bias);
    gb_parallel_for((n_rows + GB_SHAP_BLOCK - 1) / GB_SHAP_BLOCK, n_threads,
                    shap_block_cb, &job);
    gb_free(job.bias);
    if (atomic_load(&job.failed))
        return gb_error_set(err, GB_ENOMEM, "out of memory computing SHAP values");
    return GB_OK;
}
