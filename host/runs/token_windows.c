#include "token_windows.h"

static int64_t stride_of(int64_t size) {
    return size / 2 > 0 ? size / 2 : 1;
}

int64_t zoo_windows_count(int64_t n, int64_t size) {
    if (size <= 0 || n <= size) return 1;
    int64_t s = stride_of(size);
    return 1 + (n - size + s - 1) / s; /* the fewest with (count - 1) * s + size >= n */
}

static int64_t start_of(int64_t n, int64_t size, int64_t count, int64_t k) {
    return k == count - 1 ? n - size : k * stride_of(size);
}

/* Windows of one length: a token is farthest from the edges of the window
 * whose centre is nearest, so the span boundary between windows k-1 and k
 * is the midpoint of their centres, (start[k-1] + start[k] + size - 1) / 2,
 * a token on it going to window k. */
static int64_t boundary(int64_t n, int64_t size, int64_t count, int64_t k) {
    if (k == 0) return 0;
    if (k == count) return n;
    int64_t twice = start_of(n, size, count, k - 1) + start_of(n, size, count, k) + size - 1;
    return (twice + 1) / 2; /* the first token at or after the midpoint */
}

void zoo_window_at(int64_t n, int64_t size, int64_t k, int64_t *start, int64_t *len, int64_t *from,
                   int64_t *to) {
    int64_t count = zoo_windows_count(n, size);
    if (count == 1) {
        *start = 0, *len = n, *from = 0, *to = n;
        return;
    }
    *start = start_of(n, size, count, k);
    *len = size;
    *from = boundary(n, size, count, k);
    *to = boundary(n, size, count, k + 1);
}
