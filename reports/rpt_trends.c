/* rpt_trends.c - reading results "trends" (docs/history.md) for both report writers. */
#include "reports/rpt_int.h"

int aud_rpt_trend_run_index(const cJSON *runs, const cJSON *value)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(value, "run");
    int k = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (id == NULL || cJSON_IsNull(id) ? cJSON_IsNull(rid)
                                           : aud_rpt_num(r, "id") == aud_rpt_num(value, "run"))
            return k;
        k++;
    }
    return -1;
}
