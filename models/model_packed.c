/* model_packed.c - tree ensembles re-laid out for fast prediction. The reference semantics are
 * aud_tree_go_left() / aud_tree_leaf() in models/model_int.h; every layout here gives identical margins
 * (checked by tests/unit/test_model_xgb.c and test_model_lgbm.c on every golden model).
 *
 * Each tree is re-laid out breadth-first with adjacent children, so a step is
 * next = left + 1 - go_left, without a branch on the direction. Leaves point to themselves
 * (left = self - 1 and a test that is always false), so trees up to PK_FIXED_DEPTH levels are walked
 * a fixed number of steps, 8 rows at a time: the rows' independent load chains overlap.
 *
 * Two layouts:
 *  - float (pk_node, 16 bytes): every split compares float32(x) with a threshold (XGBoost `<`,
 *    scikit-learn `<=`). Every test becomes float(x) <= t: for XGBoost t is the largest float below
 *    the split value (float(x) < s iff float(x) <= prev(s)); for scikit-learn t is the largest float
 *    not above the double threshold (float(x) <= d iff float(x) <= round_down(d)). NaN takes the
 *    default child.
 *  - double (pk64_node, 32 bytes): LightGBM numerical and categorical splits. A numerical test is
 *    NaN ? nan_left : |x| <= kZeroThreshold ? zero_left : x <= t, with nan_left and zero_left
 *    precomputed from the node's missing type (None: NaN and tiny values act as 0.0; Zero: both go
 *    to the default child; NaN: NaN to the default child, tiny values as 0.0). Categorical nodes
 *    test the node's bitset as aud_lgbm_cat_left(). Pipelines' trees mix scikit-learn float32
 *    splits with category-set splits: float(x) <= d becomes x <= t with t the largest double
 *    that rounds to a float <= d (le_f32_as_double), when |d| is outside kZeroThreshold.
 * XGBoost category-set splits (AUD_SPLIT_CAT_XGB) use the float layout: such a node has
 * PK_CAT set in dl, the first word of its bitset (in pk_model.bits) in the bits of the threshold
 * slot and its word count in dl >> PK_WORDS_SHIFT. A model with any of them has has_cat set and
 * is walked by pk_step_cat, which tests dl for PK_CAT; numerical-only models keep pk_step, whose
 * node test does not look at the flag (pk_float_rows_num / _cat). The category test is
 * aud_xgb_cat_left's, without a branch on the value: each row value v = float(x) becomes a code
 * once per block (pk_code: (int)v for 0 <= v < 2^24, else a NaN or an out-of-every-set code);
 * NaN takes the default child; else right iff the code is below 32 * words and its bit is on,
 * anything else (negative, beyond the bitset, huge, infinite) left.
 * XGBoost category sets in a model that needs the double layout (trees-json mixing them with
 * LightGBM splits, not produced by any loader today) use the walker.
 *
 * Leaf masks (QuickScorer: Lucchese, Nardini, Orlando, Perego, Tonellotto, Venturini, "QuickScorer:
 * a Fast Algorithm to Rank Documents with Additive Ensembles of Regression Trees", SIGIR 2015;
 * its vectorised form, "Exploiting CPU SIMD Extensions to Speed-up Document Scoring with Tree
 * Ensembles", SIGIR 2016). On CPUs with AVX-512 the float layout's trees of at most 128 leaves
 * (XGBoost's depths 6 and 7) are not walked: every internal node is tested for 16 rows at once
 * (one compare of a column of the block, the rows' values transposed once per block), and a
 * row that goes right at a node loses the leaves of the node's left subtree from its set of
 * possible leaves (one masked AND a 64-bit word; one word up to 64 leaves, two up to 128).
 * Leaves are numbered left to right, so the row's leaf is the lowest bit left. The test is
 * pk_step's: a node whose NaN goes left sends a row right iff float(x) > t (ordered), one whose
 * NaN goes right iff !(float(x) <= t); the same leaf values are added in the same tree order
 * (pk_add's conversions), so the margins are the walk's, bit for bit. The double
 * layout (LightGBM) goes the same way, 8 doubles to a vector: a numerical split whose rule
 * reduces to x <= t (|t| above kZeroThreshold, and tiny values going where 0 goes) as above,
 * any other by pk64_step's whole rule; category sets (both layouts) test 16 codes at once, the
 * set's words loaded and permuted (up to 16 words) or gathered. Walked instead: trees of more
 * than 128 leaves, with a split that no value takes (a float threshold at -inf), or (float
 * layout) with more sets than numerical splits, which the walk takes as fast; and the rows of a
 * block past its last 16. aud_packed_isa_cap turns the masks off (tests compare the paths). */
#include "models/model_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define PK_FIXED_DEPTH 16
#define PK_GROUP 8
/* Rows per float sub-block are limited so the float copy fits a fixed stack buffer. */
#define PK_FLOATS 4096

typedef struct pk_node {
    float   t;        /* float(x) <= t goes left (leaf: NaN, never); PK_CAT: the bits of the
                       * uint32_t index of the set's first word in pk_model.bits */
    int32_t feat;     /* feature (leaf: 0) */
    int32_t left;     /* index of the left child, right = left + 1 (leaf: self - 1) */
    int32_t dl;       /* bit 0 (PK_NAN_LEFT): NaN goes left; PK_CAT: XGBoost category set, with
                       * its word count in the bits from PK_WORDS_SHIFT up */
} pk_node;

#define PK_NAN_LEFT    1
#define PK_CAT         2
#define PK_WORDS_SHIFT 2
/* Set sizes the float layout holds: the word count in dl, and 32 * words exact in float. XGBoost's
 * loader keeps codes below 2^24 (xgb_json.c), so its sets have at most 2^19 words. */
#define PK_MAX_CAT_WORDS (1 << 19)

typedef struct pk64_node {
    double   t;          /* numerical: x <= t goes left (leaf: NaN) */
    int32_t  feat;       /* feature (leaf: 0) */
    int32_t  left;       /* as pk_node */
    uint8_t  nan_left;   /* direction of NaN */
    uint8_t  zero_left;  /* direction of |x| <= kZeroThreshold */
    uint8_t  cat;        /* 1: categorical split */
    uint8_t  pad;
    int32_t  cat_begin;  /* categorical: first word in pk_model.bits */
    int32_t  cat_words;
    int32_t  pad2;
} pk64_node;

typedef struct pk_model {
    int        wide;     /* 0: float layout (nodes), 1: double layout (nodes64) */
    int        has_cat;  /* float layout with XGBoost category sets (pk_step_cat) */
    pk_node   *nodes;    /* all trees, concatenated */
    pk64_node *nodes64;
    uint32_t  *bits;     /* categorical bitsets of all trees (double layout, or has_cat) */
    size_t    *root;     /* n_trees offsets into nodes / nodes64 */
    int32_t   *depth;    /* n_trees: longest root-to-leaf path */
    double    *vals;     /* leaf values, indexed like the nodes */
    /* leaf masks (NULL when no tree qualifies or the CPU lacks AVX-512): per tree the first of
     * its internal nodes in the qs_ arrays (qs_off), how many (qs_n, -1: the tree is walked),
     * how many of them come first with NaN to the left (qs_ngt), then with NaN to the right
     * (qs_nle), how many category sets come last (qs_ncat; between them the double layout's
     * splits by the whole rule), and its first leaf value, left to right, in qs_vals (qs_voff) */
    int32_t   *qs_off, *qs_n, *qs_ngt, *qs_nle, *qs_ncat, *qs_voff;
    int32_t   *qs_feat;
    float     *qs_thr;   /* float layout: pk_threshold */
    double    *qs_thr64; /* double layout: pk64_node.t */
    uint8_t   *qs_flags; /* bit 0 NaN to the left, bit 1 (double layout) |x| <= kZeroThreshold
                          * to the left: read for the whole rule and the sets */
    int32_t   *qs_cat;   /* the last qs_ncat nodes (category sets, LightGBM's or XGBoost's):
                          * first word of the set in pk_model.bits and word count, two per node */
    uint64_t  *qs_mask;  /* the leaves a row keeps when it goes right: all but the left subtree's,
                          * QS_WORDS words a node (leaves 64 w .. 64 w + 63 in word w) */
    uint8_t   *qs_words; /* per tree: the words its masks need (1: up to 64 leaves, 2) */
    double    *qs_vals;
} pk_model;

int aud_packed_isa_cap = 0;

void aud_packed_free(void *p)
{
    pk_model *pk = p;
    if (pk == NULL)
        return;
    aud_free(pk->nodes);
    aud_free(pk->nodes64);
    aud_free(pk->bits);
    aud_free(pk->root);
    aud_free(pk->depth);
    aud_free(pk->vals);
    aud_free(pk->qs_off);
    aud_free(pk->qs_n);
    aud_free(pk->qs_ngt);
    aud_free(pk->qs_nle);
    aud_free(pk->qs_ncat);
    aud_free(pk->qs_cat);
    aud_free(pk->qs_voff);
    aud_free(pk->qs_thr64);
    aud_free(pk->qs_flags);
    aud_free(pk->qs_feat);
    aud_free(pk->qs_thr);
    aud_free(pk->qs_mask);
    aud_free(pk->qs_words);
    aud_free(pk->qs_vals);
    aud_free(pk);
}

static float pk_threshold(const aud_tree *t, int32_t i)
{
    if (t->kind[i] == AUD_SPLIT_CAT_XGB)
        return NAN;   /* not used: pk_make stores the set's place instead */
    if (t->kind[i] == AUD_SPLIT_LT_F32) {
        float s = (float)t->threshold[i];
        if (isinf(s) && s < 0)
            return NAN;   /* nothing is < -inf: only NaN (by default_left) goes left */
        return nextafterf(s, -INFINITY);
    }
    float f = (float)t->threshold[i];
    if ((double)f > t->threshold[i])
        f = nextafterf(f, -INFINITY);
    return f;
}

/* The largest double x with (double)(float)x <= thr (round to nearest even): x <= result iff
 * float(x) <= thr, for every x but NaN. */
static double le_f32_as_double(double thr)
{
    static const double to_inf = 0x1.ffffffp127;   /* FLT_MAX + half an ulp: rounds to inf */
    if (thr == INFINITY)
        return INFINITY;
    float f = (float)thr;
    if ((double)f > thr)
        f = nextafterf(f, -INFINITY);      /* the largest float <= thr */
    if (f == -INFINITY)
        return -to_inf;                    /* only values rounding to -inf */
    if (f == FLT_MAX)
        return nextafter(to_inf, -INFINITY);
    float g = nextafterf(f, INFINITY);
    double mid = ((double)f + (double)g) / 2.0;   /* exact: adjacent floats */
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    /* a tie rounds to the float with the even significand */
    return (bits & 1u) == 0 ? mid : nextafter(mid, -INFINITY);
}

/* A float-layout node for internal node i of t, left child at packed index `left`; bits_base is
 * the tree's first word in pk_model.bits. */
static pk_node pk_make(const aud_tree *t, int32_t i, int32_t left, size_t bits_base)
{
    pk_node p = { pk_threshold(t, i), t->feature[i], left, t->default_left[i] ? PK_NAN_LEFT : 0 };
    if (t->kind[i] == AUD_SPLIT_CAT_XGB) {
        uint32_t off = (uint32_t)(bits_base + (size_t)t->cat_begin[i]);
        memcpy(&p.t, &off, sizeof off);
        p.dl |= PK_CAT | (t->cat_words[i] << PK_WORDS_SHIFT);
    }
    return p;
}

static pk64_node pk64_make(const aud_tree *t, int32_t i, int32_t left, size_t bits_base)
{
    pk64_node p;
    memset(&p, 0, sizeof p);
    p.feat = t->feature[i];
    p.left = left;
    if (t->kind[i] == AUD_SPLIT_CAT) {
        p.cat = 1;
        p.t = NAN;
        p.cat_begin = (int32_t)bits_base + t->cat_begin[i];
        p.cat_words = t->cat_words[i];
        return p;
    }
    if (t->kind[i] == AUD_SPLIT_LE_F32) {
        /* a scikit-learn split beside category-set splits (pipelines): float(x) <= thr is
         * x <= t for the exact double t below; only built when thr >= kZeroThreshold or
         * thr < -kZeroThreshold, so the tiny values this layout treats as 0 all go one way */
        p.t = le_f32_as_double(t->threshold[i]);
        p.nan_left = t->default_left[i];
        p.zero_left = (uint8_t)(t->threshold[i] >= AUD_LGBM_KZERO);
        return p;
    }
    double thr = t->threshold[i];
    int dl = t->default_left[i], zero_cmp = 0.0 <= thr;
    p.t = thr;
    switch (t->missing[i]) {
    case AUD_MISSING_NONE:
        p.nan_left = (uint8_t)zero_cmp;
        p.zero_left = (uint8_t)zero_cmp;
        break;
    case AUD_MISSING_ZERO:
        p.nan_left = (uint8_t)dl;
        p.zero_left = (uint8_t)dl;
        break;
    default:
        p.nan_left = (uint8_t)dl;
        p.zero_left = (uint8_t)zero_cmp;
        break;
    }
    return p;
}

/* ---- leaf masks ------------------------------------------------------------------------------ */

enum { QS_WORDS = 2, QS_MAX_LEAVES = 64 * QS_WORDS };

/* Leaves under node i of t (reachable), counting at most QS_MAX_LEAVES + 1. */
static int32_t qs_leaves(const aud_tree *t, int32_t i, int32_t depth)
{
    if (t->left[i] < 0)
        return 1;
    if (depth > QS_MAX_LEAVES)
        return QS_MAX_LEAVES + 1;
    int32_t a = qs_leaves(t, t->left[i], depth + 1);
    if (a > QS_MAX_LEAVES)
        return a;
    return a + qs_leaves(t, t->right[i], depth + 1);
}

/* An internal node of a tree by leaf masks: its test's class (0: right iff x > t, NaN to the
 * left; 1: right iff !(x <= t), NaN to the right; 2: the double layout's whole numerical rule;
 * 3: a category set, LightGBM's or XGBoost's), feature, threshold, flags, set and mask. */
typedef struct qs_node {
    int      cls;
    int32_t  feat;
    double   thr;
    uint8_t  flags;
    int32_t  cat_begin, cat_words;
    uint64_t mask[QS_WORDS];
} qs_node;

typedef struct qs_fill {
    qs_node *nodes;
    int32_t  n, leaf;
    double  *vals;
    int      wide;
    size_t   bits_base;   /* the tree's first word in pk_model.bits */
} qs_fill;

/* Node i's subtree: its leaves numbered from q->leaf (left to right, values into q->vals), its
 * internal nodes into q->nodes. */
static void qs_walk(const aud_tree *t, int32_t i, qs_fill *q)
{
    if (t->left[i] < 0) {
        q->vals[q->leaf++] = t->value[i];
        return;
    }
    int32_t lo = q->leaf;
    qs_walk(t, t->left[i], q);
    int32_t hi = q->leaf;   /* the left subtree's leaves: [lo, hi), 1 <= hi - lo < 128 */
    qs_node *d = &q->nodes[q->n++];
    for (int w = 0; w < QS_WORDS; w++) {   /* word w holds leaves [64 w, 64 w + 64) */
        int32_t a = lo > 64 * w ? lo - 64 * w : 0, b = hi < 64 * (w + 1) ? hi - 64 * w : 64;
        uint64_t run = b <= a        ? 0
                       : b - a == 64 ? ~(uint64_t)0
                                     : (((uint64_t)1 << (b - a)) - 1) << a;
        d->mask[w] = ~run;
    }
    d->feat = t->feature[i];
    if (!q->wide) {
        d->thr = pk_threshold(t, i);
        d->cls = t->kind[i] == AUD_SPLIT_CAT_XGB ? 3 : t->default_left[i] ? 0 : 1;
        d->flags = (uint8_t)(t->default_left[i] != 0);
        d->cat_begin = (int32_t)(q->bits_base + (size_t)t->cat_begin[i]);
        d->cat_words = t->cat_words[i];
    } else {
        /* pk64_step: NaN ? nan_left : |x| <= kZ ? zero_left : x <= t. Where |t| > kZ and
         * zero_left is 0 <= t, a tiny x goes where x <= t sends it, so the rule is x <= t with
         * NaN to nan_left (classes 0 and 1) */
        pk64_node p = pk64_make(t, i, 0, q->bits_base);
        d->thr = p.t;
        d->flags = (uint8_t)(p.nan_left | p.zero_left << 1);
        d->cat_begin = p.cat_begin;
        d->cat_words = p.cat_words;
        d->cls = p.cat ? 3
                 : fabs(p.t) > AUD_LGBM_KZERO && p.zero_left == (0.0 <= p.t) ? (p.nan_left ? 0 : 1)
                                                                             : 2;
    }
    qs_walk(t, t->right[i], q);
}

/* Tree t's leaves when it can go by leaf masks, else -1: at most QS_MAX_LEAVES leaves; in the
 * float layout every numerical split one that some value takes (not a threshold at -inf,
 * pk_threshold's NaN), and at most half the splits category sets: a set costs the masks about
 * three compares, and a tree of sets is walked as fast (bench_xgb_cat, every split a set: 0.55 s
 * walked, 0.59 s by masks; LightGBM's walk of its double layout is slower, so its trees go by
 * masks whatever their sets). */
static int32_t qs_tree_leaves(const aud_tree *t, int wide)
{
    int32_t leaves = t->left[0] < 0 ? QS_MAX_LEAVES + 1 : qs_leaves(t, 0, 0);
    if (leaves > QS_MAX_LEAVES)
        return -1;
    int32_t internal = 0, sets = 0;
    for (int32_t i = 0; i < t->n_nodes; i++) {
        if (t->left[i] < 0)
            continue;
        if ((wide && t->kind[i] == AUD_SPLIT_CAT_XGB) || (!wide && t->kind[i] == AUD_SPLIT_CAT))
            return -1;
        if (!wide && t->kind[i] != AUD_SPLIT_CAT_XGB && isnan(pk_threshold(t, i)))
            return -1;
        internal++;
        sets += t->kind[i] == AUD_SPLIT_CAT_XGB;
    }
    return 2 * sets <= internal ? leaves : -1;
}

/* The leaf masks of the model's trees that qualify (pk->qs_*); AUD_OK with none when no tree
 * does or the CPU has no AVX-512 (they would not be used). */
static int qs_build(const aud_model *m, pk_model *pk, aud_error *err)
{
    size_t nt = m->n_trees, nodes = 0, leaves = 0;
    int any = 0, wide = pk->wide;
    if (aud_cpu_isa() < 3)
        return AUD_OK;
    int32_t *nl = aud_malloc((nt + 1) * sizeof *nl);
    if (nl == NULL)
        return aud_error_nomem(err);
    for (size_t k = 0; k < nt; k++) {
        const aud_tree *t = &m->trees[k];
        nl[k] = qs_tree_leaves(t, wide);
        if (nl[k] > 0) {
            any = 1;
            nodes += (size_t)nl[k] - 1;
            leaves += (size_t)nl[k];
        }
    }
    if (!any || nodes > INT32_MAX || leaves > INT32_MAX) {
        aud_free(nl);
        return AUD_OK;
    }
    pk->qs_off = aud_malloc(nt * sizeof *pk->qs_off);
    pk->qs_n = aud_malloc(nt * sizeof *pk->qs_n);
    pk->qs_ngt = aud_malloc(nt * sizeof *pk->qs_ngt);
    pk->qs_nle = aud_malloc(nt * sizeof *pk->qs_nle);
    pk->qs_ncat = aud_malloc(nt * sizeof *pk->qs_ncat);
    pk->qs_voff = aud_malloc(nt * sizeof *pk->qs_voff);
    pk->qs_feat = aud_malloc((nodes + 1) * sizeof *pk->qs_feat);
    if (wide)
        pk->qs_thr64 = aud_malloc((nodes + 1) * sizeof *pk->qs_thr64);
    else
        pk->qs_thr = aud_malloc((nodes + 1) * sizeof *pk->qs_thr);
    pk->qs_flags = aud_malloc(nodes + 1);
    pk->qs_cat = aud_malloc(2 * (nodes + 1) * sizeof *pk->qs_cat);
    pk->qs_mask = aud_malloc(QS_WORDS * (nodes + 1) * sizeof *pk->qs_mask);
    pk->qs_words = aud_malloc(nt * sizeof *pk->qs_words);
    pk->qs_vals = aud_malloc(leaves * sizeof *pk->qs_vals);
    if (pk->qs_off == NULL || pk->qs_n == NULL || pk->qs_ngt == NULL || pk->qs_nle == NULL ||
        pk->qs_ncat == NULL || pk->qs_voff == NULL || pk->qs_feat == NULL ||
        (wide ? pk->qs_thr64 == NULL : pk->qs_thr == NULL) || pk->qs_flags == NULL ||
        pk->qs_cat == NULL ||
        pk->qs_mask == NULL || pk->qs_words == NULL || pk->qs_vals == NULL) {
        aud_free(nl);
        return aud_error_nomem(err);
    }
    qs_node nd[QS_MAX_LEAVES];
    size_t off = 0, voff = 0, bits_base = 0;
    for (size_t k = 0; k < nt; k++) {
        size_t tb = bits_base;
        bits_base += (size_t)m->trees[k].n_cat_bits;   /* as aud_packed_build */
        pk->qs_off[k] = (int32_t)off;
        pk->qs_voff[k] = (int32_t)voff;
        pk->qs_n[k] = pk->qs_ngt[k] = pk->qs_nle[k] = pk->qs_ncat[k] = -1;
        pk->qs_words[k] = 1;
        if (nl[k] < 0)
            continue;
        qs_fill q = { nd, 0, 0, pk->qs_vals + voff, wide, tb };
        qs_walk(&m->trees[k], 0, &q);
        int32_t cnt[4] = { 0, 0, 0, 0 };
        for (int cls = 0; cls < 4; cls++) {   /* class by class, in the tree's order */
            for (int32_t j = 0; j < q.n; j++) {
                if (nd[j].cls != cls)
                    continue;
                pk->qs_feat[off] = nd[j].feat;
                if (wide)
                    pk->qs_thr64[off] = nd[j].thr;
                else
                    pk->qs_thr[off] = (float)nd[j].thr;   /* NaN for a set: not used */
                pk->qs_flags[off] = nd[j].flags;
                pk->qs_cat[2 * off] = nd[j].cat_begin;
                pk->qs_cat[2 * off + 1] = nd[j].cat_words;
                for (int w = 0; w < QS_WORDS; w++)
                    pk->qs_mask[QS_WORDS * off + (size_t)w] = nd[j].mask[w];
                off++;
                cnt[cls]++;
            }
        }
        pk->qs_n[k] = q.n;
        pk->qs_words[k] = (uint8_t)(q.leaf > 64 ? 2 : 1);
        pk->qs_ngt[k] = cnt[0];
        pk->qs_nle[k] = cnt[1];
        pk->qs_ncat[k] = cnt[3];
        voff += (size_t)q.leaf;
    }
    aud_free(nl);
    return AUD_OK;
}

int aud_packed_build(aud_model *m, aud_error *err)
{
    size_t total = 0, max_nodes = 0, total_bits = 0;
    int wide = 0, has_cat = 0;
    for (size_t k = 0; k < m->n_trees; k++) {
        const aud_tree *t = &m->trees[k];
        for (int32_t i = 0; i < t->n_nodes; i++) {
            if (t->left[i] >= 0 && (t->kind[i] == AUD_SPLIT_LE_F64 || t->kind[i] == AUD_SPLIT_CAT))
                wide = 1;
            if (t->left[i] >= 0 && t->kind[i] == AUD_SPLIT_CAT_XGB) {
                if (t->cat_words[i] > PK_MAX_CAT_WORDS)
                    return AUD_OK;   /* beyond what pk_node holds: the reference walker */
                has_cat = 1;
            }
        }
        total += (size_t)t->n_nodes;
        total_bits += (size_t)t->n_cat_bits;
        if ((size_t)t->n_nodes > max_nodes)
            max_nodes = (size_t)t->n_nodes;
    }
    if (has_cat && (wide || total_bits > (size_t)UINT32_MAX))
        return AUD_OK;   /* XGBoost category sets beside LightGBM splits: the walker */
    if (wide) {
        /* one layout per model: a model mixing float32 and LightGBM splits uses the walker */
        for (size_t k = 0; k < m->n_trees; k++) {
            const aud_tree *t = &m->trees[k];
            for (int32_t i = 0; i < t->n_nodes; i++)
                if (t->left[i] >= 0 && t->kind[i] != AUD_SPLIT_LE_F64 &&
                    t->kind[i] != AUD_SPLIT_CAT &&
                    !(t->kind[i] == AUD_SPLIT_LE_F32 && (t->threshold[i] >= AUD_LGBM_KZERO ||
                                                         t->threshold[i] < -AUD_LGBM_KZERO)))
                    return AUD_OK;
        }
        if (total_bits > (size_t)INT32_MAX)
            return AUD_OK;
    }
    pk_model *pk = aud_calloc(1, sizeof *pk);
    int32_t *queue = NULL;
    if (pk != NULL) {
        pk->wide = wide;
        pk->has_cat = has_cat;
        if (wide || has_cat)
            pk->bits = aud_calloc(total_bits + 1, sizeof *pk->bits);   /* + 1: an empty set's
                                                                         * load stays inside */
        if (wide) {
            pk->nodes64 = aud_malloc((total + 1) * sizeof *pk->nodes64);
        } else {
            pk->nodes = aud_malloc((total + 1) * sizeof *pk->nodes);
        }
        pk->root = aud_malloc((m->n_trees + 1) * sizeof *pk->root);
        pk->depth = aud_malloc((m->n_trees + 1) * sizeof *pk->depth);
        pk->vals = aud_malloc((total + 1) * sizeof *pk->vals);
        queue = aud_malloc(2 * (max_nodes + 1) * sizeof *queue);
    }
    if (pk == NULL || (wide ? pk->nodes64 == NULL : pk->nodes == NULL) ||
        ((wide || has_cat) && pk->bits == NULL) ||
        pk->root == NULL || pk->depth == NULL || pk->vals == NULL || queue == NULL) {
        aud_packed_free(pk);
        aud_free(queue);
        return aud_error_nomem(err);
    }
    size_t base = 0, bits_base = 0;
    int32_t *qdepth = queue + max_nodes + 1;
    for (size_t k = 0; k < m->n_trees; k++) {
        const aud_tree *t = &m->trees[k];
        double *vals = pk->vals + base;
        /* breadth-first: queue[p] is the original id of packed node p, qdepth[p] its depth */
        int32_t head = 0, tail = 1, depth = 0;
        queue[0] = 0;
        qdepth[0] = 0;
        while (head < tail) {
            int32_t p = head, i = queue[head++];
            if (qdepth[p] > depth)
                depth = qdepth[p];
            vals[p] = t->value[i];
            if (t->left[i] < 0) {
                if (wide) {
                    pk64_node leaf;
                    memset(&leaf, 0, sizeof leaf);
                    leaf.t = NAN;
                    leaf.left = p - 1;
                    pk->nodes64[base + (size_t)p] = leaf;
                } else {
                    pk->nodes[base + (size_t)p] = (pk_node){ NAN, 0, p - 1, 0 };
                }
                continue;
            }
            if (wide)
                pk->nodes64[base + (size_t)p] = pk64_make(t, i, tail, bits_base);
            else
                pk->nodes[base + (size_t)p] = pk_make(t, i, tail, bits_base);
            queue[tail] = t->left[i];
            qdepth[tail++] = qdepth[p] + 1;
            queue[tail] = t->right[i];
            qdepth[tail++] = qdepth[p] + 1;
        }
        if (pk->bits != NULL && t->n_cat_bits > 0)
            memcpy(pk->bits + bits_base, t->cat_bits, (size_t)t->n_cat_bits * sizeof *pk->bits);
        bits_base += (size_t)t->n_cat_bits;
        pk->root[k] = base;
        pk->depth[k] = depth;
        base += (size_t)tail;
    }
    aud_free(queue);
    {
        int rc = qs_build(m, pk, err);
        if (rc != AUD_OK) {
            aud_packed_free(pk);
            return rc;
        }
    }
    m->packed = pk;
    return AUD_OK;
}

/* ---- float layout ---------------------------------------------------------------------------- */

static inline int32_t pk_step(const pk_node *nd, int32_t i, const float *x)
{
    float v = x[nd[i].feat];
    int32_t gl = (v <= nd[i].t) | ((v != v) & nd[i].dl);
    return nd[i].left + 1 - gl;
}

/* A row value's category code for pk_step_cat, from v = float(x): (int)v when 0 <= v < 2^24 (a
 * code the loaders accept), PK_CODE_NAN for NaN, PK_CODE_OUT for any other value (negative,
 * huge, infinite: in no set). Computed once per row and feature, not at every node. */
#define PK_CODE_NAN (-1)
#define PK_CODE_OUT (-2)

static inline int32_t pk_code(float v)
{
    if (v != v)
        return PK_CODE_NAN;
    return v >= 0.0f && v < 16777216.0f ? (int32_t)v : PK_CODE_OUT;
}

/* pk_step for has_cat models: a PK_CAT node tests its category set as aud_xgb_cat_left, with
 * the row's codes xc (pk_code of each value of x): NaN takes the default child; right iff the
 * code is below 32 * words and its bit is set (v < 32 * words iff (int)v < 32 * words, an
 * integer); the negative codes are beyond every set as unsigned numbers. */
static inline int32_t pk_step_cat(const pk_node *nd, const uint32_t *bits, int32_t i,
                                  const float *x, const int32_t *xc)
{
    const pk_node *p = &nd[i];
    int32_t dl = p->dl, gl;
    if (dl & PK_CAT) {
        uint32_t off;
        memcpy(&off, &p->t, sizeof off);
        int32_t c = xc[p->feat];
        uint32_t w = (uint32_t)c >> 5;
        int32_t in = w < ((uint32_t)dl >> PK_WORDS_SHIFT);
        int32_t bit = (int32_t)(bits[off + (in ? w : 0)] >> (c & 31)) & in;
        gl = (bit ^ 1) & (dl | (c != PK_CODE_NAN));
    } else {
        float v = x[p->feat];
        gl = (v <= p->t) | ((v != v) & dl);
    }
    return p->left + 1 - gl;
}

static inline void pk_add(double *o, double v, int f32)
{
    if (f32)
        *o = (double)((float)*o + (float)v);
    else
        *o += v;
}

/* One step of the float layout for row xr of x: pk_step_cat when the model has category sets
 * (`cat`, constant in each caller of pk_rows; the row's codes are at the same offset in xc),
 * else pk_step. */
#define PK_STEP(i, xr) \
    (cat ? pk_step_cat(nd, bits, (i), (xr), xc + ((xr) - x)) : pk_step(nd, (i), (xr)))

/* Leaf values of one tree for rows x[0..n) (stride F) added to out[r * K] (float32 or double
 * addition). Always inlined into pk_float_rows with `cat` a constant (see there). */
static inline __attribute__((always_inline)) void
pk_rows(const pk_node *nd, const uint32_t *bits, int cat, const double *vals, int32_t depth,
        const float *x, const int32_t *xc, size_t F, size_t n, double *out, size_t K, int f32)
{
    size_t r = 0;
    if (depth <= PK_FIXED_DEPTH) {
        for (; r + PK_GROUP <= n; r += PK_GROUP) {
            const float *x0 = x + r * F;
            /* eight independent walks, unrolled so the indices stay in registers */
            int32_t i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0, i6 = 0, i7 = 0;
            for (int32_t d = 0; d < depth; d++) {
                i0 = PK_STEP(i0, x0);
                i1 = PK_STEP(i1, x0 + F);
                i2 = PK_STEP(i2, x0 + 2 * F);
                i3 = PK_STEP(i3, x0 + 3 * F);
                i4 = PK_STEP(i4, x0 + 4 * F);
                i5 = PK_STEP(i5, x0 + 5 * F);
                i6 = PK_STEP(i6, x0 + 6 * F);
                i7 = PK_STEP(i7, x0 + 7 * F);
            }
            int32_t idx[PK_GROUP] = { i0, i1, i2, i3, i4, i5, i6, i7 };
            for (int q = 0; q < PK_GROUP; q++)
                pk_add(out + (r + (size_t)q) * K, vals[idx[q]], f32);
        }
    }
    for (; r < n; r++) {
        const float *xr = x + r * F;
        int32_t i = 0;
        for (int32_t d = 0; d < depth && nd[i].left != i - 1; d++)
            i = PK_STEP(i, xr);
        pk_add(out + r * K, vals[i], f32);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Each of 8 rows' leaf from its mask of possible leaves (words a, then b when W is 2): the lowest
 * bit left, 63 - lzcnt(a & -a), or 127 - lzcnt(b & -b) when a is empty. */
__attribute__((target("avx512f,avx512cd"))) static inline __m512i
qs_lowest(__m512i a, __m512i b, int W)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i la = _mm512_and_si512(a, _mm512_sub_epi64(zero, a)),   /* the lowest bit alone */
            lb = _mm512_and_si512(b, _mm512_sub_epi64(zero, b));
    __m512i t = _mm512_sub_epi64(_mm512_set1_epi64(63), _mm512_lzcnt_epi64(la));
    if (W == 1)
        return t;
    __m512i u = _mm512_sub_epi64(_mm512_set1_epi64(127), _mm512_lzcnt_epi64(lb));
    return _mm512_mask_mov_epi64(u, _mm512_test_epi64_mask(a, a), t);
}

/* The leaf values of 16 rows (leaf indexes l0: rows 0-7, l1: 8-15) added to out[q * K] as pk_add
 * adds (float32: (double)((float)o + (float)v), both conversions exact or rounded as the scalar
 * casts; else o + v), 8 rows to a vector where the rows are adjacent (K = 1). */
__attribute__((target("avx512f,avx512cd"))) static inline void
qs_add_leaves(__m512i l0, __m512i l1, const double *vals, double *out, size_t K, int f32)
{
    __m512d v0 = _mm512_i64gather_pd(l0, vals, 8), v1 = _mm512_i64gather_pd(l1, vals, 8);
    if (K == 1) {
        __m512d o0 = _mm512_loadu_pd(out), o1 = _mm512_loadu_pd(out + 8);
        if (f32) {
            o0 = _mm512_cvtps_pd(_mm256_add_ps(_mm512_cvtpd_ps(o0), _mm512_cvtpd_ps(v0)));
            o1 = _mm512_cvtps_pd(_mm256_add_ps(_mm512_cvtpd_ps(o1), _mm512_cvtpd_ps(v1)));
        } else {
            o0 = _mm512_add_pd(o0, v0);
            o1 = _mm512_add_pd(o1, v1);
        }
        _mm512_storeu_pd(out, o0);
        _mm512_storeu_pd(out + 8, o1);
        return;
    }
    double v[16];
    _mm512_storeu_pd(v, v0);
    _mm512_storeu_pd(v + 8, v1);
    for (size_t q = 0; q < 16; q++)
        pk_add(out + q * K, v[q], f32);
}

/* Rows that go right at node j (r0: rows 0-7, r1: 8-15) lose the leaves outside mask[j]: the
 * masks of W words, a (words 0) and b (words 1). */
#define QS_AND(r0, r1)                                                                           \
    do {                                                                                         \
        __m512i mk_ = _mm512_set1_epi64((long long)mask[QS_WORDS * (size_t)j]);                  \
        a0 = _mm512_mask_and_epi64(a0, (r0), a0, mk_);                                           \
        a1 = _mm512_mask_and_epi64(a1, (r1), a1, mk_);                                           \
        if (W == 2) {                                                                            \
            __m512i mh_ = _mm512_set1_epi64((long long)mask[QS_WORDS * (size_t)j + 1]);          \
            b0 = _mm512_mask_and_epi64(b0, (r0), b0, mh_);                                       \
            b1 = _mm512_mask_and_epi64(b1, (r1), b1, mh_);                                       \
        }                                                                                        \
    } while (0)

/* Each lane's word of a category set (pk_model.bits from `begin`, `words` words) at index w, in
 * the lanes of `in` (the others 0): a set of up to 16 words is loaded once and permuted (one
 * instruction), a longer one gathered. */
__attribute__((target("avx512f"))) static inline __m512i
qs_set_words(const uint32_t *bits, int32_t begin, int32_t words, __m512i w, __mmask16 in)
{
    if (words <= 16) {
        __m512i set = _mm512_maskz_loadu_epi32((__mmask16)((1u << words) - 1u), bits + begin);
        return _mm512_maskz_permutexvar_epi32(in, w, set);
    }
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), in,
                                       _mm512_add_epi32(w, _mm512_set1_epi32(begin)),
                                       (const void *)bits, 4);
}

/* Tree k of the leaf masks for the rows [0, n16) of the block (n16 a multiple of 16; xt: the
 * block's values column by column, S floats a column), its masks of W words: each row's leaf
 * value added to out[r * K] as pk_add adds. */
__attribute__((target("avx512f,avx512cd"), always_inline)) static inline void
qs_rows_w(const pk_model *pk, size_t k, const float *xt, size_t S, size_t n16, double *out,
          size_t K, int f32, const int W)
{
    const int32_t *feat = pk->qs_feat + pk->qs_off[k];
    const float *thr = pk->qs_thr + pk->qs_off[k];
    const uint64_t *mask = pk->qs_mask + QS_WORDS * (size_t)pk->qs_off[k];
    const double *vals = pk->qs_vals + pk->qs_voff[k];
    const uint8_t *flags = pk->qs_flags + pk->qs_off[k];
    const int32_t *cat = pk->qs_cat + 2 * (size_t)pk->qs_off[k];
    int32_t nn = pk->qs_n[k], ngt = pk->qs_ngt[k], nnum = nn - pk->qs_ncat[k];
    const __m512i ones = _mm512_set1_epi64(-1), c31 = _mm512_set1_epi32(31),
                  one32 = _mm512_set1_epi32(1);
    const __m512 f0 = _mm512_setzero_ps(), f24 = _mm512_set1_ps(16777216.0f);
    for (size_t r = 0; r < n16; r += 16) {
        __m512i a0 = ones, a1 = ones, b0 = ones, b1 = ones;
        int32_t j = 0;
        for (; j < ngt; j++) {   /* NaN to the left: right iff float(x) > t */
            __m512 x = _mm512_loadu_ps(xt + (size_t)feat[j] * S + r);
            __mmask16 rt = _mm512_cmp_ps_mask(x, _mm512_set1_ps(thr[j]), _CMP_GT_OQ);
            QS_AND((__mmask8)rt, (__mmask8)(rt >> 8));
        }
        for (; j < nnum; j++) {  /* NaN to the right: right iff !(float(x) <= t) */
            __m512 x = _mm512_loadu_ps(xt + (size_t)feat[j] * S + r);
            __mmask16 rt = _mm512_cmp_ps_mask(x, _mm512_set1_ps(thr[j]), _CMP_NLE_UQ);
            QS_AND((__mmask8)rt, (__mmask8)(rt >> 8));
        }
        for (; j < nn; j++) {
            /* an XGBoost category set (pk_step_cat): right iff the code, (int)v for
             * 0 <= v < 2^24, is below 32 * words with its bit set, or v is NaN and its default
             * is right; any other value goes left */
            __m512 x = _mm512_loadu_ps(xt + (size_t)feat[j] * S + r);
            __mmask16 ok = _mm512_cmp_ps_mask(x, f0, _CMP_GE_OQ) &
                           _mm512_cmp_ps_mask(x, f24, _CMP_LT_OQ);
            __m512i cv = _mm512_cvttps_epi32(x), w = _mm512_srli_epi32(cv, 5);
            __mmask16 in = _mm512_mask_cmplt_epi32_mask(ok, w, _mm512_set1_epi32(cat[2 * j + 1]));
            __m512i word = qs_set_words(pk->bits, cat[2 * j], cat[2 * j + 1], w, in);
            __mmask16 rt = _mm512_mask_test_epi32_mask(
                in, _mm512_srlv_epi32(word, _mm512_and_si512(cv, c31)), one32);
            if (!(flags[j] & 1))
                rt |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
            QS_AND((__mmask8)rt, (__mmask8)(rt >> 8));
        }
        qs_add_leaves(qs_lowest(a0, b0, W), qs_lowest(a1, b1, W), vals, out + r * K, K, f32);
    }
}

__attribute__((target("avx512f,avx512cd"))) static void
qs_rows(const pk_model *pk, size_t k, const float *xt, size_t S, size_t n16, double *out,
        size_t K, int f32)
{
    if (pk->qs_words[k] == 1)
        qs_rows_w(pk, k, xt, S, n16, out, K, f32, 1);
    else
        qs_rows_w(pk, k, xt, S, n16, out, K, f32, 2);
}

/* The double layout's tree k by leaf masks for rows [0, n16) of the block (xt: column by column,
 * S doubles a column), 8 rows to a vector: classes 0 and 1 as qs_rows; class 2 by pk64_step's
 * whole rule, NaN ? nan_left : |x| <= kZ ? zero_left : x <= t; category sets (class 3) as
 * pk64_step, the set's words gathered. Values added by out += v. */
__attribute__((target("avx512f,avx512cd"), always_inline)) static inline void
qs64_rows_w(const pk_model *pk, size_t k, const double *xt, size_t S, size_t n16, double *out,
            size_t K, const int W)
{
    const int32_t *feat = pk->qs_feat + pk->qs_off[k];
    const double *thr = pk->qs_thr64 + pk->qs_off[k];
    const uint8_t *flags = pk->qs_flags + pk->qs_off[k];
    const uint64_t *mask = pk->qs_mask + QS_WORDS * (size_t)pk->qs_off[k];
    const double *vals = pk->qs_vals + pk->qs_voff[k];
    const int32_t *cat = pk->qs_cat + 2 * (size_t)pk->qs_off[k];
    int32_t nn = pk->qs_n[k], ngt = pk->qs_ngt[k], nle = ngt + pk->qs_nle[k],
            ngen = nn - pk->qs_ncat[k];
    const __m512i ones = _mm512_set1_epi64(-1), zero = _mm512_setzero_si512();
    const __m512d kz = _mm512_set1_pd(AUD_LGBM_KZERO);
    const __m512i c31 = _mm512_set1_epi32(31), one32 = _mm512_set1_epi32(1);
    for (size_t r = 0; r < n16; r += 16) {
        __m512i a0 = ones, a1 = ones, b0 = ones, b1 = ones;
        int32_t j = 0;
        for (; j < nn; j++) {
            const double *c = xt + (size_t)feat[j] * S + r;
            __m512d x0 = _mm512_loadu_pd(c), x1 = _mm512_loadu_pd(c + 8),
                    t = _mm512_set1_pd(thr[j]);
            __mmask8 r0, r1;
            if (j < ngt) {          /* NaN to the left: right iff x > t */
                r0 = _mm512_cmp_pd_mask(x0, t, _CMP_GT_OQ);
                r1 = _mm512_cmp_pd_mask(x1, t, _CMP_GT_OQ);
            } else if (j < nle) {   /* NaN to the right: right iff !(x <= t) */
                r0 = _mm512_cmp_pd_mask(x0, t, _CMP_NLE_UQ);
                r1 = _mm512_cmp_pd_mask(x1, t, _CMP_NLE_UQ);
            } else if (j >= ngen) {
                /* a category set: left iff (int)x, truncated, is in it: x not NaN and inside
                 * (-2^31, 2^31), the code >= 0 and below 32 * words, and its bit set. The
                 * conversion gives INT32_MIN for NaN and for x outside the int32 range (the
                 * "integer indefinite" value), which the code >= 0 test turns away */
                __m512i cv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvttpd_epi32(x0)),
                                                _mm512_cvttpd_epi32(x1), 1);
                __m512i w = _mm512_srli_epi32(cv, 5);
                __mmask16 in = _mm512_cmpge_epi32_mask(cv, zero) &
                               _mm512_cmplt_epi32_mask(w, _mm512_set1_epi32(cat[2 * j + 1]));
                __m512i word = qs_set_words(pk->bits, cat[2 * j], cat[2 * j + 1], w, in);
                __mmask16 gl = _mm512_mask_test_epi32_mask(
                    in, _mm512_srlv_epi32(word, _mm512_and_si512(cv, c31)), one32);
                r0 = (__mmask8)~gl;
                r1 = (__mmask8)~(gl >> 8);
            } else {
                __mmask8 nl = (__mmask8)-(flags[j] & 1), zl = (__mmask8)-((flags[j] >> 1) & 1);
                __mmask8 n0 = _mm512_cmp_pd_mask(x0, x0, _CMP_UNORD_Q),
                         n1 = _mm512_cmp_pd_mask(x1, x1, _CMP_UNORD_Q),
                         s0 = _mm512_cmp_pd_mask(_mm512_abs_pd(x0), kz, _CMP_LE_OQ),
                         s1 = _mm512_cmp_pd_mask(_mm512_abs_pd(x1), kz, _CMP_LE_OQ),
                         l0 = _mm512_cmp_pd_mask(x0, t, _CMP_LE_OQ),
                         l1 = _mm512_cmp_pd_mask(x1, t, _CMP_LE_OQ);
                r0 = (__mmask8)~((n0 & nl) | (s0 & zl) | (l0 & (__mmask8)~s0));
                r1 = (__mmask8)~((n1 & nl) | (s1 & zl) | (l1 & (__mmask8)~s1));
            }
            QS_AND(r0, r1);
        }
        qs_add_leaves(qs_lowest(a0, b0, W), qs_lowest(a1, b1, W), vals, out + r * K, K, 0);
    }
}

__attribute__((target("avx512f,avx512cd"))) static void
qs64_rows(const pk_model *pk, size_t k, const double *xt, size_t S, size_t n16, double *out,
          size_t K)
{
    if (pk->qs_words[k] == 1)
        qs64_rows_w(pk, k, xt, S, n16, out, K, 1);
    else
        qs64_rows_w(pk, k, xt, S, n16, out, K, 2);
}
#endif

/* 1 when the block's trees go by leaf masks here (the model has them; the CPU has AVX-512, and
 * aud_packed_isa_cap, when set, is 3 or more). */
static int qs_on(const pk_model *pk)
{
    return pk->qs_n != NULL && (aud_packed_isa_cap <= 0 || aud_packed_isa_cap >= 3);
}

size_t aud_packed_leaf_mask_trees(const aud_model *m)
{
    const pk_model *pk = m->packed;
    size_t n = 0;
    for (size_t k = 0; pk != NULL && pk->qs_n != NULL && k < m->n_trees; k++)
        n += pk->qs_n[k] >= 0;
    return n;
}

/* ---- double layout (LightGBM) ---------------------------------------------------------------- */

static inline int32_t pk64_step(const pk64_node *nd, const uint32_t *bits, int32_t i,
                                const double *x)
{
    const pk64_node *p = &nd[i];
    double v = x[p->feat];
    int32_t gl;
    if (p->cat) {
        gl = 0;
        if (!isnan(v) && v > -2147483648.0 && v < 2147483648.0) {
            int32_t c = (int32_t)v;   /* truncation toward zero, as static_cast<int> */
            if (c >= 0 && c / 32 < p->cat_words)
                gl = (int32_t)((bits[p->cat_begin + c / 32] >> (c % 32)) & 1u);
        }
    } else {
        int32_t nan = v != v, small = fabs(v) <= AUD_LGBM_KZERO, le = v <= p->t;
        gl = (nan & p->nan_left) | (small & p->zero_left) | ((small ^ 1) & le);
    }
    return p->left + 1 - gl;
}

static void pk64_tree_rows(const pk64_node *nd, const uint32_t *bits, const double *vals,
                           int32_t depth, const double *x, size_t F, size_t n, double *out,
                           size_t K)
{
    size_t r = 0;
    if (depth <= PK_FIXED_DEPTH) {
        for (; r + 4 <= n; r += 4) {
            const double *x0 = x + r * F;
            int32_t i0 = 0, i1 = 0, i2 = 0, i3 = 0;
            for (int32_t d = 0; d < depth; d++) {
                i0 = pk64_step(nd, bits, i0, x0);
                i1 = pk64_step(nd, bits, i1, x0 + F);
                i2 = pk64_step(nd, bits, i2, x0 + 2 * F);
                i3 = pk64_step(nd, bits, i3, x0 + 3 * F);
            }
            out[r * K] += vals[i0];
            out[(r + 1) * K] += vals[i1];
            out[(r + 2) * K] += vals[i2];
            out[(r + 3) * K] += vals[i3];
        }
    }
    for (; r < n; r++) {
        const double *xr = x + r * F;
        int32_t i = 0;
        for (int32_t d = 0; d < depth && nd[i].left != i - 1; d++)
            i = pk64_step(nd, bits, i, xr);
        out[r * K] += vals[i];
    }
}

/* Base margin and averaging after the sums, as the reference walker (double sums). */
static void pk_finish_rows(const aud_model *m, size_t b, size_t e, double *margin)
{
    size_t K = m->n_outputs;
    for (size_t r = b; r < e; r++) {
        for (size_t k = 0; k < K; k++) {
            double *v = &margin[r * K + k];
            if (m->average_output && m->n_trees_output[k] > 0)
                *v /= (double)m->n_trees_output[k];
            *v += m->base_margin[k];
        }
    }
}

/* The float layout over rows X[0..n): each sub-block of rows is converted to float, then walked
 * tree by tree. Always inlined into pk_float_rows_num and pk_float_rows_cat with `cat` a
 * constant; both are kept out of line (noinline), so the numerical models' loop is compiled on
 * its own, as before category sets had a packed layout, and pays no test of has_cat per tree. */
static inline __attribute__((always_inline)) void
pk_float_rows(const aud_model *m, const double *X, size_t n, double *margin, int cat,
              int32_t *xc)
{
    const pk_model *pk = m->packed;
    size_t K = m->n_outputs, F = m->n_features;
    float xf[PK_FLOATS];
    size_t step = F > 0 ? PK_FLOATS / F : n;
    int qs = n >= 16 && F > 0 && step >= 16 && qs_on(pk);
    float *xt = NULL;
    if (qs) {   /* whole groups of 16 rows in a block, and the block column by column */
        step &= ~(size_t)15;
        xt = aud_malloc(PK_FLOATS * sizeof *xt);
        qs = xt != NULL;
    }
    for (size_t b = 0; b < n; b += step) {
        size_t e = b + step < n ? b + step : n;
        for (size_t r = b; r < e; r++)
            for (size_t j = 0; j < F; j++)
                xf[(r - b) * F + j] = (float)X[r * F + j];
        size_t n16 = qs ? (e - b) & ~(size_t)15 : 0;
        for (size_t j = 0; j < F && n16 > 0; j++)
            for (size_t r = 0; r < n16; r++)
                xt[j * step + r] = xf[r * F + j];
        if (cat)
            for (size_t q = 0; q < (e - b) * F; q++)
                xc[q] = pk_code(xf[q]);
        if (m->sum_f32) {
            for (size_t r = b; r < e; r++)
                for (size_t k = 0; k < K; k++)
                    margin[r * K + k] = (double)(float)m->base_margin[k];
        } else {
            for (size_t r = b * K; r < e * K; r++)
                margin[r] = 0.0;
        }
        for (size_t i = 0; i < m->n_trees; i++) {
            double *out = margin + b * K + m->trees[i].output;
            size_t r0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
            if (n16 > 0 && pk->qs_n[i] >= 0) {
                qs_rows(pk, i, xt, step, n16, out, K, m->sum_f32);
                r0 = n16;
            }
#endif
            if (r0 < e - b)
                pk_rows(pk->nodes + pk->root[i], pk->bits, cat, pk->vals + pk->root[i],
                        pk->depth[i], xf + r0 * F, cat ? xc + r0 * F : NULL, F, e - b - r0,
                        out + r0 * K, K, m->sum_f32);
        }
        if (!m->sum_f32)
            pk_finish_rows(m, b, e, margin);
    }
    aud_free(xt);
}

static __attribute__((noinline)) void pk_float_rows_num(const aud_model *m, const double *X,
                                                        size_t n, double *margin)
{
    pk_float_rows(m, X, n, margin, 0, NULL);
}

static __attribute__((noinline)) void pk_float_rows_cat(const aud_model *m, const double *X,
                                                        size_t n, double *margin)
{
    int32_t xc[PK_FLOATS];   /* the rows' category codes (pk_code) */
    pk_float_rows(m, X, n, margin, 1, xc);
}

int aud_packed_block(const aud_model *m, const double *X, size_t n, double *margin)
{
    const pk_model *pk = m->packed;
    size_t K = m->n_outputs, F = m->n_features;
    if (pk == NULL)
        return 0;
    if (pk->wide) {
        if (m->sum_f32)
            return 0;
        for (size_t r = 0; r < n * K; r++)
            margin[r] = 0.0;
        /* by leaf masks: blocks of whole 16-row groups, each transposed (column by column) */
        size_t step = F > 0 && F <= PK_FLOATS / 16 ? (PK_FLOATS / F) & ~(size_t)15 : 0;
        double *xt = step > 0 && n >= 16 && qs_on(pk) ? aud_malloc(PK_FLOATS * sizeof *xt) : NULL;
        if (xt == NULL)
            step = n > 0 ? n : 1;
        for (size_t b = 0; b < n; b += step) {
            size_t e = n - b < step ? n : b + step, n16 = xt != NULL ? (e - b) & ~(size_t)15 : 0;
            for (size_t j = 0; j < F && n16 > 0; j++)
                for (size_t r = 0; r < n16; r++)
                    xt[j * step + r] = X[(b + r) * F + j];
            for (size_t i = 0; i < m->n_trees; i++) {
                double *out = margin + b * K + m->trees[i].output;
                size_t r0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
                if (n16 > 0 && pk->qs_n[i] >= 0) {
                    qs64_rows(pk, i, xt, step, n16, out, K);
                    r0 = n16;
                }
#endif
                if (r0 < e - b)
                    pk64_tree_rows(pk->nodes64 + pk->root[i], pk->bits, pk->vals + pk->root[i],
                                   pk->depth[i], X + (b + r0) * F, F, e - b - r0, out + r0 * K, K);
            }
        }
        aud_free(xt);
        pk_finish_rows(m, 0, n, margin);
        return 1;
    }
    if (F > PK_FLOATS)
        return 0;
    if (pk->has_cat)
        pk_float_rows_cat(m, X, n, margin);
    else
        pk_float_rows_num(m, X, n, margin);
    return 1;
}
