/* One process at a time in a run or output directory: an advisory lock
 * (fcntl F_SETLK, write lock) on DIR/.lock, which holds the owner's pid as
 * text. The kernel drops the lock when its process ends, however it ends
 * (kill -9 included), so a stale .lock file never blocks a later run: only a
 * live lock does. The lock belongs to the process: a forked child does not
 * inherit it, and the descriptor is closed on exec. */
#ifndef ZOO_HOST_RUN_LOCK_H
#define ZOO_HOST_RUN_LOCK_H

/* Takes dir's lock (dir must exist). ZOO_OK with *fd the descriptor to keep
 * open for as long as the lock must hold; otherwise a zoo_status whose
 * message says that dir is in use and names the holder's pid. */
int zoo_run_lock(const char *dir, int *fd);
/* Releases a lock from zoo_run_lock; fd < 0 is nothing. */
void zoo_run_unlock(int fd);

#endif
