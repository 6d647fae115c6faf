/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: being written (issue 6). */
int weir_ovscompat_placeholder_ovscompat_scan;
