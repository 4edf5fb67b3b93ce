#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    uint64_t bytes; /* of the values so far: checked against limit */
    uint64_t limit; /* zoo_memory_limit() at the first registration (0 before) */
    bool skip_init; /* zoo_params_skip_init */
};

/* --- the memory ceiling ---------------------------------------------------
 * Parameters are allocated zero-filled (calloc), which Linux grants lazily:
 * a 100-billion-parameter request would be "allocated" and then killed by the
 * kernel while it is filled. Each registration is checked against the ceiling
 * first, so such a model is refused with the estimate instead. */

static _Atomic uint64_t memory_ceiling; /* zoo_set_memory_limit; 0 = default */

/* ZOO_MEMORY_LIMIT: bytes, optionally with a K, M, G or T suffix (powers of
 * 1024). 0 when unset or not such a number (then the machine decides). */
static uint64_t env_limit(void) {
    const char *s = getenv("ZOO_MEMORY_LIMIT");
    if (!s || !isdigit((unsigned char)*s)) return 0;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'T':
        shift += 10; /* fall through */
    case 'G':
        shift += 10; /* fall through */
    case 'M':
        shift += 10; /* fall through */
    case 'K':
        shift += 10;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end || n > (UINT64_MAX >> shift)) return 0;
    return (uint64_t)n << shift;
}

/* What the kernel can still give without killing anyone: MemAvailable
 * (free memory and the caches it can drop), capped by the physical memory;
 * the physical memory alone where /proc/meminfo cannot be read. */
static uint64_t machine_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t physical = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return physical;
    char line[128];
    unsigned long long kib;
    uint64_t available = UINT64_MAX;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
            available = kib <= UINT64_MAX / 1024 ? (uint64_t)kib * 1024 : UINT64_MAX;
            break;
        }
    fclose(f);
    return available < physical ? available : physical;
}

void zoo_set_memory_limit(uint64_t bytes) {
    atomic_store(&memory_ceiling, bytes);
}

uint64_t zoo_memory_limit(void) {
    uint64_t set = atomic_load(&memory_ceiling), env = env_limit();
    return set ? set : env ? env : machine_memory();
}

const char *zoo_memory_limit_source(void) {
    return atomic_load(&memory_ceiling) ? "the memory limit set for this process"
           : env_limit()                ? "ZOO_MEMORY_LIMIT"
                                        : "this machine's available memory";
}

const char *zoo_format_bytes(double bytes, char *buf, size_t size) {
    static const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024 && u < 6) bytes /= 1024, u++;
    if (u == 0)
        snprintf(buf, size, "%.0f bytes", bytes);
    else
        snprintf(buf, size, "%.1f %s", bytes, unit[u]);
    return buf;
}

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
        zoo_q8_free_data(q->value);
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
    if (t && !p->skip_init) zoo_rng_fill_normal(rng, t->data, (size_t)t->numel, 0, std);
    return t;
}

zoo_tensor *zoo_params_add_filled(zoo_params *p, const char *name, int ndim, const int64_t *shape,
                                  unsigned flags, float value) {
    zoo_tensor *t = zoo_params_add(p, name, ndim, shape, flags);
    if (t && !p->skip_init)
        for (int64_t i = 0; i < t->numel; i++) zoo_f32(t)[i] = value;
    return t;
}

zoo_tensor *zoo_params_get(const zoo_params *p, const char *name) {
    zoo_param *q = zoo_params_find((zoo_params *)p, name);
    return q ? q->value : NULL;
}

int zoo_params_reserve(zoo_params *p, double bytes, const char *what) {
    if (!p->limit) p->limit = zoo_memory_limit();
    if (bytes + (double)p->bytes <= (double)p->limit) return ZOO_OK; /* NaN is refused */
    char need[32], have[32];
    return zoo_error(ZOO_ERR_NOMEM, "%s needs %s of parameters: more than %s (%s)", what,
                     zoo_format_bytes(bytes + (double)p->bytes, need, sizeof need),
                     zoo_memory_limit_source(),
                     zoo_format_bytes((double)p->limit, have, sizeof have));
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
    /* the size in double first: an absurd shape overflows int64, never a
     * double's range, and is refused here before zoo_shape_numel multiplies */
    double want = ndim >= 1 && ndim <= ZOO_MAX_DIMS ? 4 : 0;
    for (int i = 0; want > 0 && i < ndim; i++) want *= shape[i] >= 1 ? (double)shape[i] : 0;
    if (want == 0) {
        zoo_error(ZOO_ERR_SHAPE, "zoo_params_add: parameter '%s' has an invalid shape", name);
        return NULL;
    }
    if (!p->limit) p->limit = zoo_memory_limit(); /* once: it reads /proc/meminfo */
    uint64_t limit = p->limit;
    if (want + (double)p->bytes > (double)limit) {
        char each[32], total[32], have[32];
        zoo_error(ZOO_ERR_NOMEM,
                  "zoo_params_add: parameter '%s' needs %s, which would bring the parameters "
                  "to %s: more than %s (%s)",
                  name, zoo_format_bytes(want, each, sizeof each),
                  zoo_format_bytes(want + (double)p->bytes, total, sizeof total),
                  zoo_memory_limit_source(), zoo_format_bytes((double)limit, have, sizeof have));
        return NULL;
    }
    int64_t numel = zoo_shape_numel(ndim, shape);
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
    p->bytes += (uint64_t)numel * sizeof(float);
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

void zoo_params_skip_init(zoo_params *p, bool skip) {
    p->skip_init = skip;
}

void zoo_params_adjust_bytes(zoo_params *p, int64_t delta) {
    p->bytes = (uint64_t)((int64_t)p->bytes + delta);
}

uint64_t zoo_params_bytes(const zoo_params *p) {
    return p->bytes;
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
