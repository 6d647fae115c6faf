/* SPDX-License-Identifier: Apache-2.0 */
/* Names and descriptions of the drop reasons, from the one list in
 * drop.h. */

#include "dp/drop.h"

static const char *const drop_names[DP_N_DROP_REASONS] = {
#define DP_DROP_NAME(E, NAME, DESC) [DP_DROP_##E] = NAME,
    DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

static const char *const drop_descriptions[DP_N_DROP_REASONS] = {
#define DP_DROP_DESC(E, NAME, DESC) [DP_DROP_##E] = DESC,
    DP_DROP_REASONS(DP_DROP_DESC)
#undef DP_DROP_DESC
};

const char *
dp_drop_name(enum dp_drop_reason r)
{
    return (unsigned int) r < DP_N_DROP_REASONS ? drop_names[r] : "unknown";
}

const char *
dp_drop_description(enum dp_drop_reason r)
{
    return ((unsigned int) r < DP_N_DROP_REASONS ? drop_descriptions[r]
            : "unknown");
}
