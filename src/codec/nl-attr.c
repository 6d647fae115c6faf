/* SPDX-License-Identifier: Apache-2.0 */
#include "codec/nl-attr.h"

#include <string.h>
#include <libmnl/libmnl.h>

bool
codec_attr_put(struct nlmsghdr *nlh, size_t buflen, uint16_t type,
               size_t len, const void *data)
{
    struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

    if (len > UINT16_MAX - MNL_ATTR_HDRLEN
        || !mnl_attr_put_check(nlh, buflen, type, len, data)) {
        return false;
    }
    memset((char *) mnl_attr_get_payload(a) + len, 0, MNL_ALIGN(len) - len);
    return true;
}
