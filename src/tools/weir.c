/* SPDX-License-Identifier: Apache-2.0 */
/* weir: the command-line interface.  This file dispatches to the command
 * groups; each group lives in its own weir-<group>.c. */

#include "tools/weir.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
    fprintf(f,
"usage: weir [--help] [--version] COMMAND [ARG...]\n"
"\n"
"Commands:\n"
"  dp        datapaths, ports and flows in weird (ovs-dpctl's commands)\n"
"  flow      flow keys, masks and actions: extract from packets, parse,\n"
"            and convert between ovs-dpctl text and netlink bytes\n"
"\n"
"Run 'weir COMMAND --help' for the commands of a group.\n");
}

void
weir_error(const char *fmt, ...)
{
    va_list args;

    fputs("weir: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        usage(stderr);
        return WEIR_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return WEIR_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("weir %s\n", WEIR_VERSION);
        return WEIR_EXIT_OK;
    }
    if (!strcmp(argv[1], "dp")) {
        return weir_dp_main(argc - 2, argv + 2);
    }
    if (!strcmp(argv[1], "flow")) {
        return weir_flow_main(argc - 2, argv + 2);
    }
    weir_error("unknown command '%s' (try 'weir --help')", argv[1]);
    return WEIR_EXIT_USAGE;
}
