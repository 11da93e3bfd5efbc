/* rpt_compliance.c - the compliance views as results.json carries them, for both writers:
 * NYC Local Law 144 tables (fairness.compliance.nyc_ll144 {rate, tables: [{name, unknown,
 * categories: [{category, count, share, <rate>, impact_ratio, excluded}]}]}, or the array form
 * compliance["nyc-ll144"]) and the EEOC four-fifths rows (compliance["four-fifths"], or the
 * groups flagged below_four_fifths). Nothing is computed: rows are selected and looked up. */
#include "reports/rpt_int.h"

#include <math.h>
#include <string.h>

static const char *alt_str(const cJSON *o, const char *k1, const char *k2)
{
    const char *s = aud_rpt_str(o, k1, NULL);
    return s != NULL ? s : aud_rpt_str(o, k2, NULL);
}

static double alt_num(const cJSON *o, const char *k1, const char *k2)
{
    double v = aud_rpt_num(o, k1);
    return isfinite(v) || cJSON_GetObjectItemCaseSensitive(o, k1) != NULL ? v : aud_rpt_num(o, k2);
}

void aud_rpt_ll144_get(const cJSON *fairness, rpt_ll144 *out)
{
    const cJSON *comp = aud_rpt_obj(fairness, "compliance");
    const cJSON *v = aud_rpt_obj(comp, "nyc_ll144");
    memset(out, 0, sizeof *out);
    if (v != NULL) {
        out->tables = aud_rpt_arr(v, "tables");
        out->rate_key = aud_rpt_str(v, "rate", "selection_rate");
    } else {
        out->tables = aud_rpt_arr(comp, "nyc-ll144");
        out->rate_key = NULL;
    }
}

const char *aud_rpt_ll144_table_name(const cJSON *t)
{
    const char *s = alt_str(t, "attribute", "name");
    return s != NULL ? s : "?";
}

double aud_rpt_ll144_unknown(const cJSON *t)
{
    return alt_num(t, "unknown_count", "unknown");
}

const cJSON *aud_rpt_ll144_rows(const cJSON *t)
{
    const cJSON *a = aud_rpt_arr(t, "groups");
    return a != NULL ? a : aud_rpt_arr(t, "categories");
}

const char *aud_rpt_ll144_row_name(const cJSON *r)
{
    const char *s = alt_str(r, "group", "category");
    return s != NULL ? s : "?";
}

int aud_rpt_ll144_scoring(const rpt_ll144 *v, const cJSON *t)
{
    const char *k = v->rate_key != NULL ? v->rate_key : aud_rpt_str(t, "rate", "selection_rate");
    return strcmp(k, "scoring_rate") == 0;
}

double aud_rpt_ll144_row_rate(const rpt_ll144 *v, const cJSON *r)
{
    return v->rate_key != NULL ? aud_rpt_num(r, v->rate_key) : aud_rpt_num(r, "rate");
}

static const cJSON *group_named(const cJSON *attr, const char *name)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
        if (strcmp(aud_rpt_str(g, "group", ""), name) == 0)
            return g;
    }
    return NULL;
}

static const cJSON *highest_group(const cJSON *attr)
{
    const cJSON *g;
    const char *name = aud_rpt_str(attr, "highest_group", NULL);
    if (name != NULL)
        return group_named(attr, name);
    cJSON_ArrayForEach(g, aud_rpt_arr(attr, "groups")) {
        if (aud_rpt_bool(g, "highest_selection_rate") == 1)
            return g;
    }
    return NULL;
}

int aud_rpt_four_fifths(const cJSON *fairness, rpt_ff_row **out, size_t *n_out)
{
    static const char *const lists[] = {"attributes", "intersections"};
    const cJSON *comp = aud_rpt_obj(fairness, "compliance");
    const cJSON *given = aud_rpt_arr(comp, "four-fifths");
    const cJSON *a, *g;
    size_t cap = 0, n = 0;
    rpt_ff_row *rows;
    *out = NULL;
    *n_out = 0;
    if (given != NULL) {
        cap = aud_rpt_count(given);
    } else {
        for (int l = 0; l < 2; l++)
            cJSON_ArrayForEach(a, aud_rpt_arr(fairness, lists[l]))
                cap += aud_rpt_count(aud_rpt_arr(a, "groups"));
    }
    if (cap == 0)
        return AUD_OK;
    rows = aud_calloc(cap, sizeof *rows);
    if (rows == NULL)
        return AUD_E_NOMEM;
    if (given != NULL) {
        cJSON_ArrayForEach(g, given) {
            rows[n].attribute = aud_rpt_str(g, "attribute", "?");
            rows[n].group = aud_rpt_str(g, "group", "?");
            rows[n].count = aud_rpt_num(g, "count");
            rows[n].impact_ratio = aud_rpt_num(g, "impact_ratio");
            rows[n].highest = aud_rpt_str(g, "highest_group", "");
            rows[n].highest_count = aud_rpt_num(g, "highest_count");
            rows[n].fisher_p = aud_rpt_num(g, "fisher_p_value");
            n++;
        }
    } else {
        for (int l = 0; l < 2; l++) {
            cJSON_ArrayForEach(a, aud_rpt_arr(fairness, lists[l])) {
                const cJSON *hi = highest_group(a);
                cJSON_ArrayForEach(g, aud_rpt_arr(a, "groups")) {
                    if (aud_rpt_bool(g, "below_four_fifths") != 1)
                        continue;
                    rows[n].attribute = aud_rpt_str(a, "name", "?");
                    rows[n].group = aud_rpt_str(g, "group", "?");
                    rows[n].count = aud_rpt_num(g, "count");
                    rows[n].impact_ratio = aud_rpt_num(g, "impact_ratio");
                    rows[n].highest = hi != NULL ? aud_rpt_str(hi, "group", "") : "";
                    rows[n].highest_count = hi != NULL ? aud_rpt_num(hi, "count") : NAN;
                    rows[n].fisher_p = aud_rpt_num(g, "fisher_p_value");
                    n++;
                }
            }
        }
    }
    *out = rows;
    *n_out = n;
    return AUD_OK;
}
