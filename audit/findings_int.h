/* findings_int.h - shared between findings.c (grouping, JSON) and findings_text.c (sentences). */
#ifndef AUD_FINDINGS_INT_H
#define AUD_FINDINGS_INT_H

#include "audit/findings.h"

#include <stddef.h>

#define FIND_MAX_ATTRS 64   /* single attributes a grouping can tell apart (one bit each) */
#define FIND_TEXT 1400      /* sentence buffer */

enum { FIND_FAIR_GROUP, FIND_FAIR_SUMMARY, FIND_PERF, FIND_DRIFT_SET, FIND_DRIFT_COLUMN,
       FIND_EXPLAIN };

/* One evaluated check row and what the document says around it. */
typedef struct find_row {
    cJSON *check;                  /* the row in results["checks"] */
    const char *metric, *attribute, *group, *column, *reason;
    int kind;
    int failed;                    /* the check failed */
    int severity;                  /* 0 none, 1 warn, 2 fail */
    double value, lo, hi;          /* lo/hi: the value's interval, NaN when none */
    double min, max;               /* the bound, NaN where absent */
    const cJSON *attr;             /* fairness attribute (or intersection) object */
    const cJSON *grp;              /* fairness group object */
    const cJSON *refgrp;           /* that attribute's reference group object */
    unsigned long long mask;       /* single attributes the row's attribute is made of; 0 unknown */
    const char *level[FIND_MAX_ATTRS];   /* the group's level of each of them */
    long root;                     /* row it is evidence under; -1: a finding of its own */
    /* summary rows: the rate whose spread gives the figure and the groups at both ends */
    const char *drive_rate;
    const cJSON *drive_hi, *drive_lo;
} find_row;

/* Words the sentences need from the document. */
typedef struct find_words {
    const char *outcome;           /* report.favorable_outcome, or NULL */
    const char *label;             /* label column name, or NULL */
    int favorable;                 /* favourable outcome value (0 or 1) */
    double level;                  /* confidence level of the intervals */
} find_words;

/* Number of a JSON member (numbers, exact raw numbers, booleans as 0/1); NaN when absent. */
double aud_find_num(const cJSON *o, const char *key);
const char *aud_find_str(const cJSON *o, const char *key);

/* The plain sentence of row r into buf (FIND_TEXT bytes). doc: the results document. */
void aud_find_sentence(const cJSON *doc, const find_words *w, const find_row *r, char *buf);

/* Drifted columns of the drift section, most drifted (statistic / threshold) first; returns the
 * count stored in out (at most cap). */
size_t aud_find_drifted(const cJSON *drift, const cJSON **out, size_t cap);
/* What changed in a drift column, in words ("mean up from 0.283 to 0.427"), into buf. */
void aud_find_drift_change(const cJSON *col, char *buf);
/* 1 when finding attribute `at` is `attribute` or an intersection with it as a part. */
int aud_find_in_attribute(const char *at, const char *attribute);
/* One line on what drives finding f (its top driver feature, else the rate and groups behind
 * it) into buf; 0 when the finding says nothing about it. */
int aud_find_driver_text(const cJSON *f, char *buf, size_t n);

#endif
