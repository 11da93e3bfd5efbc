/* predict.h - batch prediction of a table with a model, multithreaded over rows. */
#ifndef AUD_PREDICT_H
#define AUD_PREDICT_H

#include "models/model_int.h"
#include "core/table.h"

/* Number of output columns: n_outputs with raw margins, else aud_model_n_pred(m). */
AUD_API size_t aud_predict_n_cols(const aud_model *m, int raw);

/* For models whose library refuses missing values (linear, scikit-learn < 1.3 trees): an
 * AUD_E_DOMAIN error naming the file, the row ("data row R (CSV line L)", R 0-based) and the
 * column of the first missing value of a used feature in rows [row_begin, row_end); AUD_OK
 * otherwise (and for other models). */
AUD_API int aud_predict_check_missing(const aud_model *m, const aud_table *t,
                                      const size_t *col_index, size_t row_begin, size_t row_end,
                                      aud_error *err);

/* Predict every row of t. col_index comes from aud_model_bind. out (caller-allocated,
 * t->n_rows x aud_predict_n_cols(m, raw), row-major) receives raw margins (raw = 1) or
 * predictions. Rows are split into fixed contiguous chunks, one per thread (n_threads >= 1); each
 * row is computed independently, so the result is identical for any n_threads.
 * Models with no_missing set (linear, scikit-learn < 1.3 trees) refuse missing values in a used
 * feature (AUD_E_DOMAIN naming the data row and column); others route them by the model's rules. */
AUD_API int aud_predict_table(const aud_model *m, const aud_table *t, const size_t *col_index,
                              int raw, int n_threads, double *out, aud_error *err);

#endif
