/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TOOLS_WEIR_H
#define WEIR_TOOLS_WEIR_H 1

/* The 'weir' command line: shared conventions of its subcommands.
 *
 * Every subcommand is a function taking the arguments after its name and
 * returning the process exit status: WEIR_EXIT_OK, WEIR_EXIT_ERROR (the
 * command ran and failed, e.g. bad input text) or WEIR_EXIT_USAGE (the
 * command line itself was wrong).  Errors go to stderr as
 * "weir: <reason>". */

#define WEIR_EXIT_OK 0
#define WEIR_EXIT_ERROR 1
#define WEIR_EXIT_USAGE 2

/* "weir dp ...": ovs-dpctl's commands over weird (weir-dp*.c). */
int weir_dp_main(int argc, char *argv[]);

/* "weir flow ...": flow key and action codecs (weir-flow.c). */
int weir_flow_main(int argc, char *argv[]);

/* Prints "weir: " + message + newline to stderr. */
void weir_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* tools/weir.h */
