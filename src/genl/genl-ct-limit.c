/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: being written (issue 6). */
#include "genl-private.h"

const struct genl_family genl_ct_limit_family = {
    .name = "ovs_ct_limit",
    .id = GENL_FAMILY_ID_CT_LIMIT,
};
