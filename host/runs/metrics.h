/* The metrics a plugin's loss reports beside it (zoo_metrics, zoo/plugin.h),
 * as the host averages and reports them: zoo eval over its batches, zoo
 * train's evaluations, and every line of metrics.jsonl.
 *
 * One convention holds for every plugin: a metric whose name ends in
 * "_loss" is a mean cross-entropy in nats (a bidirectional model's
 * forward_loss and backward_loss), and wherever the host reports PREFIX_loss it reports
 * PREFIX_perplexity = exp(PREFIX_loss) beside it, computed from the loss as
 * averaged, never as a mean of per-batch perplexities. A plugin that reports
 * PREFIX_perplexity itself keeps its own. */
#ifndef ZOO_HOST_METRICS_H
#define ZOO_HOST_METRICS_H

#include "zoo/plugin.h"

/* Weighted means of metrics over batches, each metric by its name (a batch
 * may leave one out); zero-initialise it. Names are the plugin's static
 * strings: keep the plugin loaded while this lives. */
typedef struct zoo_metric_means {
    int count;
    const char *names[ZOO_MAX_METRICS];
    double sums[ZOO_MAX_METRICS], weights[ZOO_MAX_METRICS];
} zoo_metric_means;

/* Adds a batch's metrics, each weighing `weight` in its mean (what the
 * batch's loss weighs in the mean loss). Names past ZOO_MAX_METRICS are
 * ignored, as zoo_metrics_add ignores them. */
void zoo_metric_means_add(zoo_metric_means *a, const zoo_metrics *m, double weight);

/* The means, in the order the names were first seen, into *out. */
void zoo_metric_means_get(const zoo_metric_means *a, zoo_metrics *out);

/* Calls fn with each metric of m, in order, and right after each
 * PREFIX_loss with PREFIX_perplexity = exp(its value), unless m holds that
 * name itself. m may be NULL. */
void zoo_metrics_each(const zoo_metrics *m, void (*fn)(void *ctx, const char *name, double value),
                      void *ctx);

#endif
