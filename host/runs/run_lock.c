#include "run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zoo/status.h"

int zoo_run_lock(const char *dir, int *fd) {
    *fd = -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0)
        return zoo_error(ZOO_ERR_IO, "%s: cannot open the directory's lock file: %s", path,
                         strerror(errno));
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &l) != 0) {
        int why = errno;
        /* F_GETLK names the holder even when .lock's text is not written yet */
        struct flock held = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        long pid = fcntl(f, F_GETLK, &held) == 0 && held.l_type != F_UNLCK ? (long)held.l_pid : 0;
        close(f);
        if (why != EAGAIN && why != EACCES)
            return zoo_error(ZOO_ERR_IO, "%s: cannot lock it: %s", path, strerror(why));
        if (pid > 0)
            return zoo_error(ZOO_ERR_STATE,
                             "%s is in use by another zoo process (pid %ld); wait for it to end, "
                             "or stop it",
                             dir, pid);
        return zoo_error(ZOO_ERR_STATE, "%s is in use by another zoo process (%s is locked)", dir,
                         path);
    }
    /* the pid as text, for people and tools that look */
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    /* a failure here leaves the lock held without its text: F_GETLK still names the pid */
    bool written = ftruncate(f, 0) == 0 && pwrite(f, text, (size_t)n, 0) == n;
    (void)written;
    *fd = f;
    return ZOO_OK;
}

void zoo_run_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing drops the fcntl lock */
}
