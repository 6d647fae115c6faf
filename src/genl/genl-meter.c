/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: being written (issue 6). */
#include "genl-private.h"

const struct genl_family genl_meter_family = {
    .name = "ovs_meter",
    .id = GENL_FAMILY_ID_METER,
};
