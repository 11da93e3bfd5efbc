/* rpt_groups_int.h - the groups of a fairness attribute or intersection as both report writers
 * show them (rpt_groups.c): natural order, the order of importance charts and capped tables
 * pick groups in, small groups, and unambiguous names of intersection groups. */
#ifndef AUD_RPT_GROUPS_INT_H
#define AUD_RPT_GROUPS_INT_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* A small group: reported, but excluded from the verdict ("small" or "excluded_from_verdict"). */
int aud_rpt_group_small(const cJSON *g);
/* An eligible group below four fifths (the document's below_four_fifths flag, else its
 * disparate impact below AUD_FOUR_FIFTHS). */
int aud_rpt_group_failing(const cJSON *g);

/* Natural order of two group names: names led by a number compare by it ("<25" before "25-35"
 * before "35-45" before ">=65" and "65+"; "9" before "10"), others by their text with digit runs
 * compared as numbers, case-insensitively; ties by bytes. */
int aud_rpt_natural_cmp(const char *a, const char *b);

/* The groups of attr (an entry of the results document doc's fairness.attributes or
 * .intersections) in natural order (intersections: component by component; an attribute whose
 * order the spec gave, by "order" or "bins", keeps that order) or in
 * order of importance (eligible groups below four fifths first, then eligible groups, then small
 * ones, each by size, largest first; ties in natural order). *out (aud_free; NULL when empty).
 * AUD_OK or AUD_E_NOMEM. */
enum { RPT_ORDER_NATURAL, RPT_ORDER_IMPORTANCE };
int aud_rpt_groups_sorted(const cJSON *doc, const cJSON *attr, int order,
                          const cJSON ***out, size_t *n);

/* The display name of group `group` of attr: as is, unless attr is an intersection and one of
 * its components holds the separator '&' ("White&Trinadad&Tobago" of race&native_country):
 * then each such component is quoted ("White&\"Trinadad&Tobago\""). The components are found
 * with the level names of the attributes in fairness.attributes. */
const char *aud_rpt_group_label(const cJSON *fairness, const cJSON *attr, const char *group,
                                char *buf, size_t n);

/* An attribute or intersection of the fairness section by name, and one of its groups; NULL. */
const cJSON *aud_rpt_fair_attr(const cJSON *fairness, const char *attr);
const cJSON *aud_rpt_fair_group(const cJSON *fairness, const char *attr, const char *group);

/* Groups the PDF shows per attribute or intersection: report.max_groups, else the default. */
#define RPT_DEFAULT_MAX_GROUPS 20
size_t aud_rpt_max_groups(const cJSON *doc);

/* Which rows of one attribute a capped table lists: every eligible row (small[i] == 0), and
 * small rows, largest count first, while fewer than cap rows are kept. keep[i] = 1 or 0. */
void aud_rpt_cap_small(const double *count, const int *small, size_t n, size_t cap,
                       unsigned char *keep);

#endif
