/* Overlapping windows over a text longer than a model reads, so that no
 * token is cut and every token is counted once.
 *
 * n tokens are covered by windows of `size` tokens (size >= n, or size 0:
 * one window of all n). Otherwise windows start every stride = size / 2
 * tokens (at least 1), the last one moved back to end at the text's end,
 * so every window holds exactly `size` tokens:
 *
 *   n = 10, size = 4, stride 2:   [0,4) [2,6) [4,8) [6,10)
 *
 * A token takes its vector from the window where it is farthest from an
 * edge (the one whose centre is nearest; on a tie, the later window, which
 * has read more before it): the first tokens from the first window, the
 * last from the last. Each window thus supplies one contiguous span of
 * tokens, the spans follow each other in order and together cover [0, n):
 *
 *   spans of the example above:   [0,3) [3,5) [5,7) [7,10)
 *
 * A span may be empty when the last window starts just after the one
 * before it. The tokens a model adds around each window ([CLS], [SEP]) are
 * not counted here: the caller adds them to every window. */
#ifndef ZOO_HOST_TOKEN_WINDOWS_H
#define ZOO_HOST_TOKEN_WINDOWS_H

#include <stdint.h>

/* How many windows n >= 0 tokens take (1 for n <= size, size 0, or n 0). */
int64_t zoo_windows_count(int64_t n, int64_t size);

/* Window k (0 <= k < zoo_windows_count): its first token into *start, its
 * length into *len, and the span of tokens it supplies into [*from, *to). */
void zoo_window_at(int64_t n, int64_t size, int64_t k, int64_t *start, int64_t *len, int64_t *from,
                   int64_t *to);

#endif
