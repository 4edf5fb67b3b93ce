#include <stdlib.h>

#include "internal.h"
#include "zoo/params.h"

/* items keep insertion order for everything that enumerates; index is an
 * open-addressing hash table (linear probing, at most half full) from name to
 * position in items, so that registering n parameters costs O(n), not O(n^2):
 * a 2,000-layer model has 24,000 names. */
struct zoo_params {
    zoo_param *items;
    int count, cap;
    int *index; /* index_cap slots, -1 when empty */
    size_t index_cap;
};

static uint64_t name_hash(const char *s) { /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot that holds name, or the empty slot where it would go. */
static size_t index_slot(const zoo_params *p, const char *name) {
    size_t mask = p->index_cap - 1, i = (size_t)name_hash(name) & mask;
    while (p->index[i] >= 0 && strcmp(p->items[p->index[i]].name, name) != 0) i = (i + 1) & mask;
    return i;
}

/* Makes room for one more name: doubles and rehashes past half full. */
static bool index_reserve(zoo_params *p) {
    if ((size_t)(p->count + 1) * 2 <= p->index_cap) return true;
    size_t cap = p->index_cap ? p->index_cap * 2 : 64;
    int *index = malloc(cap * sizeof *index);
    if (!index) return false;
    for (size_t i = 0; i < cap; i++) index[i] = -1;
    free(p->index);
    p->index = index;
    p->index_cap = cap;
    for (int k = 0; k < p->count; k++) p->index[index_slot(p, p->items[k].name)] = k;
    return true;
}

zoo_params *zoo_params_new(void) {
    return calloc(1, sizeof(zoo_params));
}

void zoo_params_free(zoo_params *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) {
        zoo_param *q = &p->items[i];
        free((char *)q->name);
        free(q->value->data);
        free(q->value->grad);
        free(q->value);
        free(q->m);
        free(q->v);
    }
    free(p->items);
    free(p->index);
    free(p);
}

zoo_param *zoo_params_find(zoo_params *p, const char *name) {
    if (!p->index_cap) return NULL;
    int k = p->index[index_slot(p, name)];
    return k >= 0 ? &p->items[k] : NULL;
}

zoo_tensor *zoo_params_add_normal(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                                  unsigned flags, zoo_rng *rng, float std) {
    zoo_tensor *t = zoo_params_add(p, name, ndim, shape, flags);
    if (t) zoo_rng_fill_normal(rng, t->data, (size_t)t->numel, 0, std);
    return t;
}

zoo_tensor *zoo_params_add_filled(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                                  unsigned flags, float value) {
    zoo_tensor *t = zoo_params_add(p, name, ndim, shape, flags);
    if (t)
        for (int64_t i = 0; i < t->numel; i++) zoo_f32(t)[i] = value;
    return t;
}

zoo_tensor *zoo_params_get(const zoo_params *p, const char *name) {
    zoo_param *q = zoo_params_find((zoo_params *)p, name);
    return q ? q->value : NULL;
}

zoo_tensor *zoo_params_add(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                           unsigned flags) {
    if (!name || !*name) {
        zoo_error(ZOO_ERR_ARG, "zoo_params_add: empty parameter name");
        return NULL;
    }
    if (zoo_params_find(p, name)) {
        zoo_error(ZOO_ERR_ARG, "zoo_params_add: parameter '%s' already exists", name);
        return NULL;
    }
    int64_t numel = zoo_shape_numel(ndim, shape);
    if (numel == 0) {
        zoo_error(ZOO_ERR_SHAPE, "zoo_params_add: parameter '%s' has an invalid shape", name);
        return NULL;
    }
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        zoo_param *items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items) goto nomem;
        p->items = items;
        p->cap = cap;
    }
    if (!index_reserve(p)) goto nomem;
    zoo_tensor *t = calloc(1, sizeof *t);
    char *copy = strdup(name);
    float *data = calloc((size_t)numel, sizeof(float));
    if (!t || !copy || !data) {
        free(t);
        free(copy);
        free(data);
        goto nomem;
    }
    *t = (zoo_tensor){.dtype = ZOO_F32,
                      .ndim = ndim,
                      .numel = numel,
                      .data = data,
                      .requires_grad = !(flags & ZOO_PARAM_FROZEN),
                      .persistent = true};
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    p->index[index_slot(p, copy)] = p->count;
    p->items[p->count++] = (zoo_param){.name = copy, .value = t, .flags = flags};
    return t;
nomem:
    zoo_error(ZOO_ERR_NOMEM, "zoo_params_add: out of memory for '%s'", name);
    return NULL;
}

int zoo_params_count(const zoo_params *p) {
    return p->count;
}

zoo_param *zoo_params_at(zoo_params *p, int i) {
    return i >= 0 && i < p->count ? &p->items[i] : NULL;
}

int64_t zoo_params_numel(const zoo_params *p) {
    int64_t n = 0;
    for (int i = 0; i < p->count; i++) n += p->items[i].value->numel;
    return n;
}

void zoo_params_zero_grad(zoo_params *p) {
    for (int i = 0; i < p->count; i++) {
        zoo_tensor *t = p->items[i].value;
        if (t->grad) zoo_zero_floats(t->grad, t->numel);
    }
}

void zoo_params_set_frozen(zoo_param *param, bool frozen) {
    if (frozen)
        param->flags |= ZOO_PARAM_FROZEN;
    else
        param->flags &= ~(unsigned)ZOO_PARAM_FROZEN;
    param->value->requires_grad = !frozen;
}
