/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target's LLVMFuzzerTestOneInput() on every regular file named
 * on the command line, or found directly inside a directory named there.
 * Built instead of libFuzzer when fuzzing is off, so that the unit suite
 * replays the corpus (every crash once found stays a test) under ASan and
 * UBSan.  Exits 0 if every input ran; a finding aborts through the
 * sanitizers. */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        perror(path);
        return 1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf) {
                abort();
            }
        }
        n = fread(buf + len, 1, cap - len, f);
        if (!n) {
            break;
        }
        len += n;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int
main(int argc, char *argv[])
{
    int n_run = 0, errors = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *dir;
        struct dirent *de;

        if (stat(argv[i], &st)) {
            continue;           /* No corpus yet: nothing to replay. */
        }
        if (!S_ISDIR(st.st_mode)) {
            errors += run_file(argv[i]);
            n_run++;
            continue;
        }
        dir = opendir(argv[i]);
        if (!dir) {
            perror(argv[i]);
            return 1;
        }
        while ((de = readdir(dir))) {
            char path[4096];

            if (de->d_name[0] == '.') {
                continue;
            }
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            if (!stat(path, &st) && S_ISREG(st.st_mode)) {
                errors += run_file(path);
                n_run++;
            }
        }
        closedir(dir);
    }
    printf("replayed %d inputs\n", n_run);
    return errors ? 1 : 0;
}
