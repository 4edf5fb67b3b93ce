/* Errors as values: every fallible zoo function returns a zoo_status (0 or a
 * negative code) or NULL, and leaves a one-line message describing the failure
 * in a per-thread buffer, as dlerror() does. Library code never prints or exits. */
#ifndef ZOO_STATUS_H
#define ZOO_STATUS_H

#include "zoo/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zoo_status {
    ZOO_OK = 0,
    ZOO_ERR_NOMEM = -1,  /* an allocation failed */
    ZOO_ERR_SHAPE = -2,  /* tensor shapes or dtypes do not fit the operation */
    ZOO_ERR_ARG = -3,    /* an argument is out of its documented range */
    ZOO_ERR_IO = -4,     /* a file could not be read or written */
    ZOO_ERR_FORMAT = -5, /* a file or document is malformed */
    ZOO_ERR_STATE = -6,  /* the call is not valid in the object's current state */
    ZOO_ERR_NOTFOUND = -7,
    ZOO_ERR_CHECK = -8, /* a check found a wrong result (zoo_gradcheck: a gradient disagrees) */
} zoo_status;

/* Static text for a status code ("shape mismatch"); never NULL. */
ZOO_API const char *zoo_status_str(int status);

/* Records a printf-style message for the calling thread and returns `status`,
 * so a failing path can `return zoo_error(ZOO_ERR_ARG, "...", ...)`. */
ZOO_API int zoo_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message ("" when none). Valid until the next zoo_error. */
ZOO_API const char *zoo_error_message(void);
ZOO_API void zoo_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
