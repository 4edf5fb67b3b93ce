#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "zoo/status.h"

static _Thread_local char last_message[1024];

const char *zoo_status_str(int status) {
    switch (status) {
    case ZOO_OK:
        return "ok";
    case ZOO_ERR_NOMEM:
        return "out of memory";
    case ZOO_ERR_SHAPE:
        return "shape mismatch";
    case ZOO_ERR_ARG:
        return "invalid argument";
    case ZOO_ERR_IO:
        return "input/output error";
    case ZOO_ERR_FORMAT:
        return "malformed input";
    case ZOO_ERR_STATE:
        return "invalid state";
    case ZOO_ERR_NOTFOUND:
        return "not found";
    case ZOO_ERR_CHECK:
        return "check failed";
    default:
        return "unknown error";
    }
}

int zoo_error(int status, const char *fmt, ...) {
    /* formatted aside first, so a message may quote the previous one */
    char message[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    memcpy(last_message, message, sizeof message);
    return status;
}

const char *zoo_error_message(void) {
    return last_message;
}

void zoo_error_clear(void) {
    last_message[0] = '\0';
}
