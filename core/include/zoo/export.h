/* Symbol visibility: libzoo is built with hidden visibility; ZOO_API marks the public API. */
#ifndef ZOO_EXPORT_H
#define ZOO_EXPORT_H
#define ZOO_API __attribute__((visibility("default")))
#endif
