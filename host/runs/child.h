/* One step of a longer job run as a child process of this same zoo
 * executable (zoo compare's train, eval and probe steps), so that a crash
 * or an out-of-memory kill in it cannot take the job down, and its peak
 * memory is its own. */
#ifndef ZOO_HOST_CHILD_H
#define ZOO_HOST_CHILD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct zoo_child_result {
    int status;             /* its exit status; 128 + N when signal N killed it */
    double seconds;         /* wall-clock time */
    int64_t peak_rss_bytes; /* its peak resident memory (getrusage's ru_maxrss) */
    char last_line[1024];   /* the last non-empty line it wrote to stderr */
    bool interrupted;       /* a SIGINT (Ctrl-C) reached this process while it ran */
} zoo_child_result;

/* Runs `zoo ARGS...` (argv[0] is "zoo", NULL-terminated) with this
 * process's executable. Its stdout goes to stdout_path (created or
 * truncated; NULL: ours). Its stderr passes through to ours, prefixed, unless
 * quiet, and its last line is kept for the caller's error message. While it
 * runs, SIGINT does not stop this process: the child, in the same process
 * group, gets it from the terminal and stops in its own way (zoo train saves
 * a checkpoint), and result->interrupted tells the caller; a SIGINT sent to
 * this process alone is passed on to the child. Returns ZOO_OK once
 * the child ran (whatever its status), or a status with a message when it
 * could not be started. */
int zoo_child_run(char *const argv[], const char *stdout_path, const char *prefix, bool quiet,
                  zoo_child_result *result);

#endif
