/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: being written (issue 5). */
typedef int weir_placeholder_t;
