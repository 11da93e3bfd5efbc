/* sketch.h - a deterministic, mergeable quantile summary with a self-certified rank error.
 *
 * The summary is a list of entries (v, rmin, rmax, wmin) sorted by v, after Greenwald & Khanna,
 * "Space-efficient online computation of quantile summaries" (SIGMOD 2001), in the weighted
 * form with merge and prune of Chen & Guestrin, "XGBoost: a scalable tree boosting system"
 * (KDD 2016, supplementary section "weighted quantile sketch"); the level structure of add()
 * is the one of Manku, Rajagopalan & Lindsay (SIGMOD 1998) and of "mergeable summaries"
 * (Agarwal, Cormode, Huang, Phillips, Wei & Yi, PODS 2012). For every entry, over the values
 * summarised (total weight n):
 *     rmin <= weight of values < v,   weight of values <= v <= rmax,   wmin <= weight of v.
 * Merge adds these bounds, prune only drops entries, so the bounds stay true and the rank error
 * of any query is read off the entries themselves (aud_sketch_max_gap): it is exact, not
 * probabilistic. No randomness: the same values in the same order give the same bytes, and
 * merging gives the same result whatever the thread count that produced the parts.
 *
 * Error: a summary built from sorted data (aud_sketch_from_sorted) holds exact ranks at its
 * entries and has rank error at most n / (k - 1) per gap (+ the weight of one value); add()
 * of n values into capacity k adds about n / (k - 1) per level of log2(n / k) levels; a merge
 * of two summaries adds their errors (each relative to its own weight). */
#ifndef AUD_SKETCH_H
#define AUD_SKETCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/aud.h"

typedef struct aud_sketch_entry {
    double v, rmin, rmax, wmin;
} aud_sketch_entry;

typedef struct aud_sketch {
    size_t            k;          /* capacity of a pruned summary (>= 2) */
    double            n;          /* total weight summarised */
    aud_sketch_entry *e;          /* the summary of everything compacted so far */
    size_t            n_e;
    double            e_w;        /* weight summarised by e */
    /* add(): buffered values and one pruned summary per level (internal) */
    double           *buf, *bw;
    size_t            n_buf;
    aud_sketch_entry **lvl;
    size_t           *lvl_n;
    double           *lvl_w;    size_t            n_lvl;
} aud_sketch;

/* An empty sketch of capacity k (k < 2 is raised to 2). */
AUD_API void aud_sketch_init(aud_sketch *s, size_t k);
AUD_API void aud_sketch_free(aud_sketch *s);

/* Add value x (finite) with weight w > 0. AUD_OK, AUD_E_DOMAIN (NaN/inf/bad weight) or
 * AUD_E_NOMEM. */
AUD_API int aud_sketch_add(aud_sketch *s, double x, double w, aud_error *err);

/* Fold buffered values and levels into s->e (queries do it themselves). */
AUD_API int aud_sketch_compact(aud_sketch *s, aud_error *err);

/* Summary of the sorted array x[0..n) (finite, ascending): exact ranks at every entry; pruned
 * to k entries (min and max always kept). extra[0..n_extra) (any order, may be NULL) are
 * values kept as entries as well, with exact ranks (e.g. bin edges), whether or not they occur
 * in x. s is initialised by the call. */
AUD_API int aud_sketch_from_sorted(aud_sketch *s, const double *x, size_t n, size_t k,
                                   const double *extra, size_t n_extra, aud_error *err);

/* dst := prune(dst merged with src), capacity dst->k. Both are compacted first. */
AUD_API int aud_sketch_merge(aud_sketch *dst, aud_sketch *src, aud_error *err);

/* Bounds on the weight of values <= v (le = 1) or < v (le = 0): *lo <= true <= *hi. Returns the
 * midpoint. The sketch must be compacted (aud_sketch_compact). */
AUD_API double aud_sketch_rank(const aud_sketch *s, double v, int le, double *lo, double *hi);
/* aud_sketch_rank for values asked in increasing order: *at (0 at the start) carries the
 * position from call to call, so a walk over the entries costs O(entries + calls) in all
 * instead of a binary search per call. */
AUD_API double aud_sketch_rank_walk(const aud_sketch *s, double v, int le, size_t *at,
                                    double *lo, double *hi);

/* A value whose rank brackets q * n (q in [0, 1]); *rank_err (may be NULL) receives the largest
 * distance, in weight, between q * n and the true ranks the value may have. NaN when empty. */
AUD_API double aud_sketch_quantile(const aud_sketch *s, double q, double *rank_err);

/* The largest width hi - lo of aud_sketch_rank over all v: the rank error of the summary is
 * at most half of it around the midpoint (compacted sketch). */
AUD_API double aud_sketch_max_gap(const aud_sketch *s);

/* {"k", "n", "entries": [v, rmin, rmax, wmin, ...]} (numbers round-trip exactly). NULL on no
 * memory. */
AUD_API cJSON *aud_sketch_to_json(aud_sketch *s);

/* Read what aud_sketch_to_json wrote, checking every invariant (sorted values, bounds within
 * [0, n], non-decreasing ranks); an error names file and field (where + ".entries[i]"). s is
 * initialised by the call and freed on error. */
AUD_API int aud_sketch_from_json(aud_sketch *s, const cJSON *o, const char *file,
                                 const char *where, aud_error *err);

#endif
