#include "zoo/plugin.h"

void zoo_metrics_add(zoo_metrics *m, const char *name, double value) {
    if (!m || m->count >= ZOO_MAX_METRICS) return;
    m->items[m->count].name = name;
    m->items[m->count].value = value;
    m->count++;
}
