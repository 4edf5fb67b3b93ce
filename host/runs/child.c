#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "zoo/status.h"

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* The child's side: stdout to the file, stderr to the pipe, then exec. */
static void exec_child(char *const argv[], const char *stdout_path, int err_fd) {
    if (stdout_path) {
        int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
            dprintf(err_fd, "zoo: %s: %s\n", stdout_path, strerror(errno));
            _exit(127);
        }
    }
    if (dup2(err_fd, STDERR_FILENO) < 0) _exit(127);
    execv("/proc/self/exe", argv);
    dprintf(STDERR_FILENO, "zoo: cannot run itself (/proc/self/exe): %s\n", strerror(errno));
    _exit(127);
}

/* Keeps the last non-empty line of what passes, split at '\n' and '\r'
 * (progress lines end in '\r'). */
typedef struct line_keeper {
    char current[1024];
    size_t len;
    char *last; /* result->last_line */
} line_keeper;

static void keep(line_keeper *k, const char *buf, ssize_t n) {
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (k->len) {
                k->current[k->len] = '\0';
                snprintf(k->last, sizeof k->current, "%s", k->current);
            }
            k->len = 0;
        } else if (k->len < sizeof k->current - 1) {
            k->current[k->len++] = buf[i];
        }
    }
}

int zoo_child_run(char *const argv[], const char *stdout_path, const char *prefix, bool quiet,
                  zoo_child_result *result) {
    memset(result, 0, sizeof *result);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return zoo_error(ZOO_ERR_IO, "pipe: %s", strerror(errno));
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    fflush(NULL);
    double t0 = zoo_now();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]), close(fds[1]);
        sigaction(SIGINT, &old, NULL);
        return zoo_error(ZOO_ERR_IO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        sigaction(SIGINT, &old, NULL); /* the child answers Ctrl-C as it would alone */
        exec_child(argv, stdout_path, fds[1]);
    }
    close(fds[1]);
    line_keeper k = {.last = result->last_line};
    bool line_start = true, forwarded = false;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (interrupted && !forwarded) { /* a SIGINT meant for this process alone */
            kill(pid, SIGINT);
            forwarded = true;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        keep(&k, buf, n);
        for (ssize_t i = 0; !quiet && i < n; i++) { /* prefix every line */
            if (line_start && prefix) fputs(prefix, stderr);
            fputc(buf[i], stderr);
            line_start = buf[i] == '\n' || buf[i] == '\r';
        }
        if (!quiet) fflush(stderr);
    }
    keep(&k, "\n", 1);
    close(fds[0]);
    int wstatus = 0;
    struct rusage usage = {0};
    while (wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
    }
    result->seconds = zoo_now() - t0;
    result->peak_rss_bytes = (int64_t)usage.ru_maxrss * 1024; /* Linux reports KiB */
    result->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    result->interrupted = interrupted;
    sigaction(SIGINT, &old, NULL);
    return ZOO_OK;
}
