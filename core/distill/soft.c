/*
 * soft.c - teacher probabilities -> logits -> tempered soft targets, and the
 * blended targets of tree and regression students.
 * Layer: core/distill.
 */
#include "core/distill/soft.h"

#include <math.h>

#include "core/math/metrics.h"

gb_status gb_soft_check(double temperature, double alpha, gb_error *err)
{
    if (!(isfinite(temperature) && temperature > 0.0)) {
        gb_error_set(err, GB_EUNUSABLE,
                     "temperature must be a finite number > 0, got %g", temperature);
        gb_error_field(err, "temperature");
        return GB_EUNUSABLE;
    }
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
        gb_error_set(err, GB_EUNUSABLE, "alpha must be in [0, 1], got %g", alpha);
        gb_error_field(err, "alpha");
        return GB_EUNUSABLE;
    }
    return GB_OK;
}

static gb_status check_proba(const double *p, size_t n_rows, size_t n_classes,
                             gb_error *err)
{
    if (n_classes < 2) {
        gb_error_set(err, GB_EUNUSABLE,
                     "teacher probabilities need at least 2 classes, got %zu",
                     n_classes);
        gb_error_field(err, "teacher");
        return GB_EUNUSABLE;
    }
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t k = 0; k < n_classes; k++) {
            double v = p[i * n_classes + k];
            if (!(v >= 0.0 && v <= 1.0)) {
                gb_error_set(err, GB_EUNUSABLE,
                             "teacher probability %g at row %zu, class %zu is not in "
                             "[0, 1]",
                             v, i, k);
                gb_error_field(err, "teacher");
                return GB_EUNUSABLE;
            }
        }
    }
    return GB_OK;
}

/* 1 / (1 + exp(-x)) without overflow. */
static double sigmoid(double x)
{
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

gb_status gb_soft_logits(const double *teacher_proba, size_t n_rows, size_t n_classes,
                         double *z, gb_error *err)
{
    gb_status st = check_proba(teacher_proba, n_rows, n_classes, err);
    if (st != GB_OK)
        return st;
    if (n_classes == 2) {
        for (size_t i = 0; i < n_rows; i++) {
            double p1 = gb_proba_clamp(teacher_proba[2 * i + 1]);
            z[i] = log(p1) - log1p(-p1);
        }
    } else {
        for (size_t i = 0; i < n_rows * n_classes; i++)
            z[i] = log(gb_proba_clamp(teacher_proba[i]));
    }
    return GB_OK;
}

gb_status gb_soft_targets(const double *teacher_proba, size_t n_rows, size_t n_classes,
                          double temperature, double *q, gb_error *err)
{
    gb_status st = gb_soft_check(temperature, 0.0, err);
    if (st != GB_OK)
        return st;
    if ((st = check_proba(teacher_proba, n_rows, n_classes, err)) != GB_OK)
        return st;
    if (n_classes == 2) {
        for (size_t i = 0; i < n_rows; i++) {
            double p1 = gb_proba_clamp(teacher_proba[2 * i + 1]);
            double zt = (log(p1) - log1p(-p1)) / temperature;
            q[2 * i] = sigmoid(-zt);
            q[2 * i + 1] = sigmoid(zt);
        }
        return GB_OK;
    }
    for (size_t i = 0; i < n_rows; i++) {
        const double *p = teacher_proba + i * n_classes;
        double *row = q + i * n_classes;
        double zmax = -INFINITY;
        for (size_t k = 0; k < n_classes; k++) {
            row[k] = log(gb_proba_clamp(p[k])) / temperature;
            if (row[k] > zmax)
                zmax = row[k];
        }
        double sum = 0.0;
        for (size_t k = 0; k < n_classes; k++) {
            row[k] = exp(row[k] - zmax);
            sum += row[k];
        }
        for (size_t k = 0; k < n_classes; k++)
            row[k] /= sum;
    }
    return GB_OK;
}

gb_status gb_soft_tree_targets(const double *q, const int32_t *y, size_t n_rows,
                               size_t n_classes, double alpha, double *out,
                               gb_error *err)
{
    gb_status st = gb_soft_check(1.0, alpha, err);
    if (st != GB_OK)
        return st;
    if (alpha > 0.0) {
        if (y == NULL) {
            gb_error_set(err, GB_EUNUSABLE, "alpha %g > 0 needs hard labels", alpha);
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
        for (size_t i = 0; i < n_rows; i++) {
            if (y[i] < 0 || (size_t)y[i] >= n_classes) {
                gb_error_set(err, GB_EUNUSABLE,
                             "label %ld at row %zu is outside [0, %zu)", (long)y[i], i,
                             n_classes);
                gb_error_field(err, "y");
                return GB_EUNUSABLE;
            }
        }
    }
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t k = 0; k < n_classes; k++) {
            double hard = alpha > 0.0 && (size_t)y[i] == k ? 1.0 : 0.0;
            double soft = alpha < 1.0 ? q[i * n_classes + k] : 0.0;
            out[i * n_classes + k] = alpha * hard + (1.0 - alpha) * soft;
        }
    }
    return GB_OK;
}

gb_status gb_soft_regression_targets(const double *y, const double *teacher,
                                     size_t n_rows, double alpha, double *out,
                                     gb_error *err)
{
    gb_status st = gb_soft_check(1.0, alpha, err);
    if (st != GB_OK)
        return st;
    if (alpha > 0.0 && y == NULL) {
        gb_error_set(err, GB_EUNUSABLE, "alpha %g > 0 needs hard targets", alpha);
        gb_error_field(err, "y");
        return GB_EUNUSABLE;
    }
    for (size_t i = 0; i < n_rows; i++) {
        if (alpha < 1.0 && !isfinite(teacher[i])) {
            gb_error_set(err, GB_EUNUSABLE, "teacher output at row %zu is not finite",
                         i);
            gb_error_field(err, "teacher");
            return GB_EUNUSABLE;
        }
        if (alpha > 0.0 && !isfinite(y[i])) {
            gb_error_set(err, GB_EUNUSABLE, "target at row %zu is not finite", i);
            gb_error_field(err, "y");
            return GB_EUNUSABLE;
        }
    }
    for (size_t i = 0; i < n_rows; i++) {
        double hard = alpha > 0.0 ? y[i] : 0.0;
        double soft = alpha < 1.0 ? teacher[i] : 0.0;
        out[i] = alpha * hard + (1.0 - alpha) * soft;
    }
    return GB_OK;
}
