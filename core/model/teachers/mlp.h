/*
 * mlp.h - multilayer perceptron teachers: the glassbox-mlp v1 JSON format
 * (load, score, write back) and in-service training with Adam.
 * Layer: core/model/teachers.
 *
 * Format (docs/teachers-mlp.md):
 *
 *   {"format":"glassbox-mlp","version":1,
 *    "features":["f1",...],                    input order, by column name
 *    "preprocess":{"mean":[...],"scale":[...]}, optional: x' = (x-mean)/scale
 *    "layers":[{"weights":[[...],...],         [out][in]
 *               "bias":[...],
 *               "activation":"relu|tanh|sigmoid|identity"}, ...],
 *    "output":"softmax|sigmoid|identity",
 *    "classes":["0","1",...]}                   omitted for regression
 *
 * The last layer's activation is applied before the output function, so it is
 * normally "identity".  Tasks: output "sigmoid" = binary (one unit, the logit
 * of classes[1]; exactly 2 classes); "softmax" = one unit per class (2 classes
 * binary, 3+ multiclass); "identity" without classes = regression (one unit).
 *
 * Scoring (gb_model ops):
 *   predict         probabilities, n_rows x n_classes (binary sigmoid gives
 *                   [1-p, p]); regression one value per row.
 *   predict_margin  logits: binary sigmoid 1 column, binary softmax
 *                   z1 - z0, multiclass K columns, regression the output.
 *   to_json         the glassbox-mlp v1 document (exact round trip).
 * Rows are scored in blocks with one cblas_dgemm per layer.  Missing inputs
 * (NaN) are imputed with the preprocess mean (standardised value 0); a model
 * without preprocess refuses rows with missing inputs (GB_EUNUSABLE naming
 * the feature and row).
 *
 * Trained models (gb_mlp_train) always carry preprocess, so they impute the
 * training mean for missing values both in training and in scoring.
 */
#ifndef CORE_MODEL_TEACHERS_MLP_H
#define CORE_MODEL_TEACHERS_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"
#include "core/data/table.h"
#include "core/json.h"
#include "core/model/model.h"
#include "core/model/students/student.h"
#include "core/progress.h"

/* Bounds on what a glassbox-mlp document (or a training request) may ask. */
#define GB_MLP_MAX_LAYERS 32       /* dense layers, output layer included */
#define GB_MLP_MAX_UNITS 16384     /* units of one layer */
#define GB_MLP_MAX_FEATURES 100000 /* inputs */
#define GB_MLP_MAX_PARAMS 33554432 /* weights + biases in total (2^25) */

typedef enum gb_mlp_activation {
    GB_MLP_ACT_IDENTITY = 0,
    GB_MLP_ACT_RELU,
    GB_MLP_ACT_TANH,
    GB_MLP_ACT_SIGMOID
} gb_mlp_activation;

/* ---- loading and saving --------------------------------------------------- */

/* Parses a glassbox-mlp v1 document of n bytes (need not be NUL-terminated)
 * into a new model (*out, caller frees with gb_model_free, kind "mlp").
 * Malformed JSON is GB_EINPUT; a document that is valid JSON but not a
 * usable glassbox-mlp v1 model is GB_EUNUSABLE with err->field naming the
 * offending path ("layers[1].weights[3]"); size bounds are GB_ETOOLARGE.
 * On error *out is NULL. */
gb_status gb_mlp_load(const char *bytes, size_t n, gb_model **out, gb_error *err);

/* As gb_mlp_load from an already parsed document (borrowed, not modified). */
gb_status gb_mlp_from_json(const cJSON *doc, gb_model **out, gb_error *err);

/* Reads and loads a file; GB_EIO / GB_ENOTFOUND when it cannot be read. */
gb_status gb_mlp_load_file(const char *path, gb_model **out, gb_error *err);

/* Nonzero when m is an MLP built by this module. */
int gb_model_is_mlp(const gb_model *m);

/* The glassbox-mlp v1 document of an MLP model (caller frees with
 * cJSON_Delete); NULL on allocation failure or when m is not an MLP. */
cJSON *gb_mlp_to_json(const gb_model *m);

/* Writes the document to path (pretty printed, trailing newline) through a
 * temporary file renamed into place, so path is either the complete new
 * document or untouched.  GB_EIO on write failure. */
gb_status gb_mlp_save(const gb_model *m, const char *path, gb_error *err);

/* ---- training ------------------------------------------------------------- */

typedef struct gb_mlp_train_params {
    size_t n_hidden;                      /* hidden layers; default 2 */
    size_t hidden[GB_MLP_MAX_LAYERS - 1]; /* their widths; default 64, 64 */
    gb_mlp_activation activation;         /* hidden activation; default relu */
    size_t max_epochs;                    /* passes over the data; default 200 */
    size_t batch_size;                    /* rows per Adam step; default 64 */
    double learning_rate;                 /* Adam step size; default 1e-3 */
    double dropout;                       /* drop rate of hidden units in
                                             [0, 1); default 0 */
    double weight_decay;                  /* decoupled decay of weights (not
                                             biases), AdamW; default 1e-4 */
    double validation_fraction;           /* inner early-stopping split in
                                             [0, 0.5]; 0 = no early stopping;
                                             default 0.1 */
    size_t patience;                      /* epochs without improvement before
                                             stopping; default 20 */
} gb_mlp_train_params;

/* Fills *p with the defaults above. */
void gb_mlp_train_params_default(gb_mlp_train_params *p);

/* Sets one parameter from text (CLI `--hidden 64,64`, API values): keys
 * hidden ("64,64"; "" or "none" for no hidden layer), activation, epochs,
 * batch_size, learning_rate, dropout, weight_decay, validation_fraction,
 * patience.  Unknown keys and bad values are GB_EUNUSABLE naming the key;
 * *p is unchanged on error. */
gb_status gb_mlp_train_param_set(gb_mlp_train_params *p, const char *key,
                                 const char *value, gb_error *err);

/* Checks every parameter (GB_EUNUSABLE naming the first bad one). */
gb_status gb_mlp_train_params_check(const gb_mlp_train_params *p, gb_error *err);

/* Trains an MLP on ts (every feature NUMERIC; one-hot encode categoricals
 * first) from hard labels: ts->y_class for classification (sigmoid output for
 * binary, softmax for multiclass, cross-entropy), ts->y_value for regression
 * (identity output, squared error on standardised targets, folded back into
 * the last layer).  The inner validation split (stratified for
 * classification) and every random draw come from ts->seed: the same inputs
 * and seed give bit-identical weights whatever the thread count.  The best
 * weights by validation loss are kept.  Progress phase "train", cancellation
 * polled every epoch.  *out owned by the caller (gb_model_free); NULL on
 * error. */
gb_status gb_mlp_train(const gb_train_set *ts, const gb_mlp_train_params *p,
                       const gb_progress *progress, gb_model **out, gb_error *err);

/* Trains on a whole table: every column but the target is an input,
 * categorical columns one-hot ("col=level", gb_features_from_table), missing
 * values imputed with the training mean; hard labels from target (resolved
 * on this table).  The shared path of `glassbox train-teacher` and
 * POST /api/v1/teachers/train.  *out as gb_mlp_train. */
gb_status gb_mlp_train_table(const gb_table *table, const gb_target *target,
                             const gb_mlp_train_params *p, uint64_t seed,
                             const gb_progress *progress, gb_model **out,
                             gb_error *err);

/* Epochs actually run by the last gb_mlp_train of this model (0 for a loaded
 * model); for reports. */
size_t gb_mlp_epochs_run(const gb_model *m);

#endif /* CORE_MODEL_TEACHERS_MLP_H */
