/* ksum_int.h - Neumaier compensated summation (deterministic, close to the exact sum); shared by
 * the drift statistics (drift_stats.c), the profile-reference statistics (drift_refw.c) and the
 * column profiles (profile.c). Internal, not part of the public API. */
#ifndef AUD_KSUM_INT_H
#define AUD_KSUM_INT_H

#include <math.h>

typedef struct aud_ksum {
    double s, c;
} aud_ksum;

static inline void aud_ksum_add(aud_ksum *k, double v)
{
    double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

static inline double aud_ksum_get(const aud_ksum *k)
{
    return k->s + k->c;
}

#endif
