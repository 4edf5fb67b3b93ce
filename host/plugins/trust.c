/* Ownership and permission checks on the files that give zoo code to run,
 * done as OpenSSH checks authorized_keys: resolve the path, then walk from
 * the file up to "/", refusing the first file or directory another user
 * could write to. */
#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zoo/status.h"

/* One file or directory on the path: ZOO_OK, or the error naming it. `leaf`:
 * the checked path itself, which the sticky bit does not excuse. */
static int check_one(const char *path, const char *what, const char *at, bool leaf) {
    struct stat st;
    if (stat(at, &st) != 0) return zoo_error(ZOO_ERR_IO, "%s: %s: %s", path, at, strerror(errno));
    uid_t me = geteuid();
    if (st.st_uid != 0 && st.st_uid != me)
        return zoo_error(ZOO_ERR_STATE,
                         "%s: refusing the %s: %s is owned by uid %u, neither root nor you (uid "
                         "%u), so another user could replace it; fix: chown %u '%s' (or move the "
                         "%s somewhere that is yours)",
                         path, what, at, (unsigned)st.st_uid, (unsigned)me, (unsigned)me, at, what);
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if (!(st.st_mode & (S_IWGRP | S_IWOTH)) || (sticky_dir && !leaf)) return ZOO_OK;
    const char *who = (st.st_mode & S_IWOTH) ? "everyone" : "its group";
    if (leaf)
        return zoo_error(ZOO_ERR_STATE,
                         "%s: refusing the %s: it is writable by %s (mode %04o), so another user "
                         "could change the code zoo runs; fix: chmod go-w '%s'",
                         path, what, who, (unsigned)(st.st_mode & 07777), at);
    return zoo_error(ZOO_ERR_STATE,
                     "%s: refusing the %s: the directory %s is writable by %s (mode %04o) without "
                     "the sticky bit, so another user could replace what it holds; fix: chmod "
                     "go-w '%s' (or chmod +t, as /tmp has it)",
                     path, what, at, who, (unsigned)(st.st_mode & 07777), at);
}

int zoo_trust_check_path(const char *path, const char *what) {
    char *real = realpath(path, NULL);
    if (!real) return zoo_error(ZOO_ERR_IO, "%s: %s: %s", what, path, strerror(errno));
    int st = check_one(path, what, real, true);
    /* each ancestor, cutting the resolved path back one component at a time */
    for (char *slash = strrchr(real, '/'); !st && slash; slash = strrchr(real, '/')) {
        if (slash == real) { /* the root directory itself */
            st = check_one(path, what, "/", false);
            break;
        }
        *slash = '\0';
        st = check_one(path, what, real, false);
    }
    free(real);
    return st;
}
