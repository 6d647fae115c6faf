/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: being written (issue 5). */
int main(void) { return 1; }
