/* shard_int.h - mergeable partial results of `audit run --shard` and their merge (SPEC section 9,
 * docs/scale-out.md gives the format and exactly what a partial reveals).
 *
 * A partial holds, for the rows of one shard, the multisets every data-derived section of the
 * results depends on:
 *   - "joint": the cells of the columns the fairness and performance figures read together (the
 *     sensitive attributes, the label, the prediction or score column, the model's score), each
 *     distinct combination once with its count;
 *   - "columns": for every other data column its distinct values (or categories) with counts;
 *   - "why": the fairness drivers' and proxy screen's sums per cell of the sensitive attributes'
 *     values (audit/shard_why.c).
 * The profile, fairness (bootstrap intervals included: they are multinomial draws over the group
 * confusion cells, metrics/fair_boot.c), trade-offs, drift and performance figures depend on the
 * rows only through these multisets, so `audit merge` rebuilds a table with the same multisets
 * and runs the same code: the merged figures are those of a single run up to the order of
 * floating-point summation. Cells with a count under min_cell are suppressed (federated use). */
#ifndef AUD_SHARD_INT_H
#define AUD_SHARD_INT_H

#include "audit/run_int.h"

#define AUD_PARTIAL_FORMAT "audit-partial"
#define AUD_PARTIAL_VERSION 2          /* 2: score bins (joint.score_bins); 1 is still read */
#define AUD_PARTIAL_VERSION_MIN 1
/* A numeric column with more distinct values than this in a shard is kept as a quantile summary
 * of AUD_PARTIAL_SKETCH_K entries (docs/scale-out.md "What is exact"); the PSI edges of at most
 * AUD_PARTIAL_PSI_MAX bins are exact points of it. */
#define AUD_PARTIAL_EXACT_VALUES 2048
#define AUD_PARTIAL_SKETCH_K 1024
#define AUD_PARTIAL_PSI_MAX 100

/* A model score is kept exactly unless a shard has more than AUD_PARTIAL_EXACT_SCORES distinct
 * joint cells with it (about 40 bytes each) (the environment variable AUDIT_PARTIAL_EXACT_SCORES sets another limit,
 * for tests) and binning merges some: then each score is replaced by the lower end of its bin
 * (docs/scale-out.md "Continuous model scores"): the doubles that share the score's sign,
 * exponent and first AUD_PARTIAL_SCORE_BITS mantissa bits (a relative width of 2^-10), split at
 * the cuts every shard derives from the spec (the decision threshold, the calibration edges, the
 * PSI edges of the reference's scores), so that every figure read at a cut stays exact. */
#define AUD_PARTIAL_EXACT_SCORES 16384
#define AUD_PARTIAL_SCORE_BITS 10
#define AUD_PARTIAL_SCORE_CUTS 64

/* The bin of s (cuts ascending, n_cuts of them; bits mantissa bits): its lower end, the smallest
 * double in it: max(the bits' edge at or below s, the largest cut <= s). *hi (may be NULL): the
 * lower end of the next bin (every value of the bin is < *hi). NaN and infinities are their own
 * bin (*hi = s). */
double aud_score_bin(double s, const double *cuts, size_t n_cuts, int bits, double *hi);
/* A bin's lower end r as an integer that every shard gives it (the bits' prefix of r times
 * AUD_PARTIAL_SCORE_CUTS plus the number of cuts above the prefix's edge up to r; -inf is 0),
 * and back (-1 when num is no bin's number). */
uint64_t aud_score_bin_number(double r, const double *cuts, size_t n_cuts, int bits);
int aud_score_bin_value(uint64_t num, const double *cuts, size_t n_cuts, int bits, double *r);

/* Keep only the rows of shard opts->shard_index of opts->shard_count of c->data (contiguous
 * blocks in file order; the whole table with opts->shard_site). */
int aud_shard_slice(run_ctx *c);

/* With opts->shard_exchange: load only this shard's byte range of the data file into c->data
 * (*ranged = 1), its first row and the file's rows from the other shards; *ranged = 0 when
 * every shard must read the whole file (a range failed to load, or the column types the ranges
 * inferred differ). */
int aud_shard_load_range(run_ctx *c, const aud_csv_opts *co, int *ranged);

/* Write DIR/partial-I-of-N.audpart of the shard's rows (c->data, c->score after the
 * predictions), or hand its text to *opts->partial_text. */
int aud_shard_write(run_ctx *c, const char *out_dir);

/* Cells of the rows of t by their values in columns cols[0..n_cols): cell[i] in [0, *n_cells),
 * rep[k] one row of cell k; *n_cells = SIZE_MAX when there are more than max_cells (rep holds
 * max_cells entries). AUD_OK or AUD_E_NOMEM (no message). */
int aud_shard_cells(const aud_table *t, const size_t *cols, size_t n_cols, int32_t *cell,
                    size_t *rep, size_t max_cells, size_t *n_cells);
/* The value of column col in row i as a partial writes it: the category, the number, null. */
cJSON *aud_shard_cell_json(const aud_column *col, size_t i);
/* o[key]: n doubles as one string of 16 hex digits each (their IEEE bits, exact); -1 without
 * memory. aud_merge_read_hex reads it back into out (n doubles); -1 when it is not one. */
int aud_shard_add_hex(cJSON *o, const char *key, const double *v, size_t n);
int aud_merge_read_hex(const cJSON *s, double *out, size_t n);

/* The partial's "why" block (audit/shard_why.c): what the fairness drivers and the proxy screen
 * need, per cell of the sensitive attributes' values, or "skipped" with the reason. */
int aud_shard_why(run_ctx *c, cJSON *part);
/* A rank of audit-mpi that failed before aud_shard_why: take part in its first exchange (saying
 * so), so that the other ranks do not wait for it. */
void aud_shard_why_abort(run_ctx *c);

/* Read (texts NULL) or parse (texts[k], named parts[k]) and check the partials: one spec (hash), one shard count, every shard exactly once, the
 * same model, reference and columns. On AUD_OK: c->spec parsed from the embedded spec text,
 * c->data the merged table, c->score the model scores of its rows (NULL when the partials have
 * none), c->merge_info the "merge" block of the results and c->mx_* the explained rows. */
int aud_merge_load(const char *const *parts, const char *const *texts, size_t n_parts,
                   run_ctx *c);

/* The partials' "why" blocks (docs[k] of shard k, paths[k] its file) merged into c->mg_why, or
 * the reason they cannot be into c->mg_why_skip; t is the merged table. */
int aud_merge_why(run_ctx *c, const aud_table *t, const cJSON *const *docs,
                  const char *const *paths, size_t n);

/* Free c->mg_sum (the merged summaries and their sketches) and c->mg_why. */
void aud_merge_sums_free(run_ctx *c);

/* Merged runs: the figures of columns rebuilt from quantile summaries (c->mg_sum) made exact
 * where the summary allows (mean, std) and their bounds stated (docs/scale-out.md): the
 * profile's columns (after aud_profile_to_json) and drift's columns (after aud_drift_to_json,
 * r the drift result). No-ops unless c->mg_sum has a summary. */
int aud_merge_profile_bounds(run_ctx *c);
int aud_merge_drift_bounds(run_ctx *c, const aud_drift_result *r);

/* Merged runs whose model scores were binned (the merge block's "score_bins"): the bounds of the
 * figures that read the scores (AUC, its standard error and interval, Brier score, log loss,
 * ECE, calibration, prediction drift), written beside them (docs/scale-out.md). A no-op
 * otherwise. */
int aud_merge_score_bounds(run_ctx *c);

#endif
