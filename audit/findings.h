/* findings.h - SPEC section 7: the evaluated policy checks of a results document grouped into
 * root findings, each with a plain sentence built from its numbers, its significance, the
 * intersections that only repeat it (evidence) and, when the fairness section carries them, what
 * drives it and the size of the trade-off. Rules and wording: docs/fairness.md "Findings". */
#ifndef AUD_FINDINGS_H
#define AUD_FINDINGS_H

#include "core/aud.h"
#include <cjson/cJSON.h>
#include <stdio.h>

/* Read results["checks"] (aud_checks_evaluate) and the computed sections, and add
 * results["findings"]: an array, fail findings first, empty when every check passed clear of
 * its bound. Also names, in each fairness check row, the "reference" group, and in per-attribute
 * summary rows the rate and the groups that drive the figure ("driven_by"). Nothing else in
 * results is changed. AUD_OK, or AUD_E_NOMEM with err filled (results then holds no findings). */
int aud_findings_build(cJSON *results, aud_error *err);

/* The findings of results["findings"] that concern attribute `attribute` (NULL: all) as text for
 * a terminal: a heading, then per finding "  F1 FAIL  <sentence>" and its driver line. *out is
 * caller-owned (aud_free); NULL when there is nothing to say. AUD_OK or AUD_E_NOMEM. */
int aud_findings_text(const cJSON *results, const char *attribute, char **out, aud_error *err);

/* The findings of a fairness section alone (a command's document: no spec, no checks) under the
 * four-fifths rule - disparate impact of at least 0.8 for every eligible group and intersection
 * - as aud_findings_text renders them (*out NULL when there are none). label: the label column
 * for the sentences, or NULL. The section is read, not changed. */
int aud_findings_fourfifths_text(const cJSON *fairness, const char *label, char **out,
                                 aud_error *err);

#endif
