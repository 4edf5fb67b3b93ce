/* What zoo checks before it trusts a file with code: a plugin library, a
 * registry that names libraries, a drop-in directory of them. Like ssh and
 * sudo, zoo refuses such a file when another user could have replaced it:
 * the file, or any directory on its resolved path, is writable by group or
 * others (a directory only counts when it lacks the sticky bit, which stops
 * others from renaming what is not theirs: /tmp is fine), or is owned by
 * someone other than root or the current user. */
#ifndef ZOO_HOST_TRUST_H
#define ZOO_HOST_TRUST_H

#include <stdbool.h>

/* What the path is, for the message: "plugin library", "registry",
 * "drop-in directory". A drop-in directory itself is checked as a file
 * (sticky or not, no one else may add a library to it). Returns ZOO_OK, or
 * ZOO_ERR_STATE with a message naming the path, the offending file or
 * directory, why, and the chmod (or chown) that fixes it; ZOO_ERR_IO when
 * the path cannot be resolved. */
int zoo_trust_check_path(const char *path, const char *what);

#endif
