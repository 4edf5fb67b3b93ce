/* Comparison configs (host/runs/compare_config.c), read from a file as
 * zoo compare reads them, and each model's run config derived from it. The
 * scratch directory holds what a comparison names (the seeds use these
 * names): train.txt, val.txt, probe.tsv and two model configs, bigram.json
 * and gpt.json, so that an input gets past the checks that its files exist. */
#include <stdbool.h>

#include "compare_config.h"
#include "config.h"
#include "fuzz_util.h"

static const char bigram_config[] =
    "{\"model\": {\"plugin\": \"bigram\"}, \"data\": {\"train\": \"train.txt\", \"tokenizer\": "
    "{\"type\": \"char\"}, \"seq_len\": 8}, \"train\": {\"steps\": 2, \"batch_size\": 2}}\n";
static const char gpt_config[] =
    "{\"extends\": \"bigram.json\", \"model\": {\"plugin\": \"gpt\", \"n_layer\": 1, \"n_embd\": "
    "8, \"n_head\": 2, \"block_size\": 8}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        fuzz_write("train.txt", "in the beginning\n", 17);
        fuzz_write("val.txt", "and the earth\n", 14);
        fuzz_write("probe.tsv", "a\tin the\nb\tthe earth\n", 21);
        fuzz_write("bigram.json", bigram_config, sizeof bigram_config - 1);
        fuzz_write("gpt.json", gpt_config, sizeof gpt_config - 1);
        ready = true;
    }
    zoo_compare_config *c = zoo_compare_config_load(fuzz_write("compare.json", data, size));
    if (c) {
        char buf[128];
        zoo_compare_budget_text(c, buf, sizeof buf);
        for (int i = 0; i < c->n_models && i < 4; i++)
            zoo_config_free(zoo_compare_model_config(c, i, 1));
        zoo_compare_config_free(c);
    }
    return 0;
}
