/* The graph's arena: a list of blocks handed out by bumping a pointer. On
 * reset, if the step needed more than one block, they are replaced by a
 * single block as large as all of them, so from the second step on a step of
 * the same shape is served by one block and calls malloc not at all. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define ARENA_ALIGN 64
#define ARENA_DEFAULT_BYTES (1u << 20)

struct zoo_arena_block {
    zoo_arena_block *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char mem[];
};

static zoo_arena_block *block_new(size_t size) {
    size_t bytes = (sizeof(zoo_arena_block) + size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    zoo_arena_block *b = aligned_alloc(ARENA_ALIGN, bytes);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

zoo_graph *zoo_graph_new(size_t initial_bytes) {
    zoo_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->blocks = block_new(initial_bytes ? initial_bytes : ARENA_DEFAULT_BYTES);
    if (!g->blocks) {
        free(g);
        return NULL;
    }
    g->recording = true;
    return g;
}

static void free_blocks(zoo_arena_block *b) {
    while (b) {
        zoo_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void zoo_graph_free(zoo_graph *g) {
    if (!g) return;
    free_blocks(g->blocks);
    free(g);
}

void zoo_graph_reset(zoo_graph *g) {
    if (g->blocks->next) {
        size_t total = 0;
        for (zoo_arena_block *b = g->blocks; b; b = b->next) total += b->size;
        zoo_arena_block *merged = block_new(total);
        if (merged) { /* on failure the old blocks stay: usable, just not merged */
            free_blocks(g->blocks);
            g->blocks = merged;
        }
    }
    for (zoo_arena_block *b = g->blocks; b; b = b->next) b->used = 0;
    g->used_total = 0;
    g->tape = NULL;
    g->status = ZOO_OK;
    g->error[0] = '\0';
}

void *zoo_graph_alloc(zoo_graph *g, size_t bytes) {
    size_t need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0) need = ARENA_ALIGN;
    for (zoo_arena_block *b = g->blocks; b; b = b->next) {
        if (b->size - b->used >= need) {
            void *p = b->mem + b->used;
            b->used += need;
            g->used_total += need;
            return p;
        }
    }
    size_t size = g->blocks->size * 2 > need ? g->blocks->size * 2 : need;
    zoo_arena_block *b = block_new(size);
    if (!b) {
        zoo_graph_fail(g, ZOO_ERR_NOMEM, "graph arena: cannot allocate %zu bytes", size);
        return NULL;
    }
    b->next = g->blocks;
    g->blocks = b;
    b->used = need;
    g->used_total += need;
    return b->mem;
}

size_t zoo_graph_capacity(const zoo_graph *g) {
    size_t total = 0;
    for (const zoo_arena_block *b = g->blocks; b; b = b->next) total += b->size;
    return total;
}

size_t zoo_graph_used(const zoo_graph *g) {
    return g->used_total;
}

void zoo_graph_set_recording(zoo_graph *g, bool on) {
    g->recording = on;
}
bool zoo_graph_recording(const zoo_graph *g) {
    return g->recording;
}
void zoo_graph_set_training(zoo_graph *g, bool on) {
    g->training = on;
}
bool zoo_graph_training(const zoo_graph *g) {
    return g->training;
}

void zoo_graph_set_count_sum(zoo_graph *g, zoo_count_sum_fn sum, void *ctx) {
    g->count_sum = sum;
    g->count_sum_ctx = ctx;
}
int zoo_graph_status(const zoo_graph *g) {
    return g->status;
}
const char *zoo_graph_error(const zoo_graph *g) {
    return g->error;
}

int zoo_graph_vfail(zoo_graph *g, int status, const char *fmt, va_list ap) {
    if (g->status == ZOO_OK) {
        g->status = status;
        vsnprintf(g->error, sizeof g->error, fmt, ap);
    }
    zoo_error(status, "%s", g->error);
    return status;
}

int zoo_graph_fail(zoo_graph *g, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    zoo_graph_vfail(g, status, fmt, ap);
    va_end(ap);
    return status;
}
