/* Run configs (host/runs/config.c): the JSON text of a config, parsed,
 * merged with its defaults and validated, then printed back. Its "extends"
 * resolves against the scratch directory, which holds base.json (a small
 * valid config) for the seeds to extend. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

static const char base_config[] =
    "{\"model\": {\"plugin\": \"bigram\"}, \"data\": {\"train\": \"train.txt\", "
    "\"tokenizer\": {\"type\": \"char\"}}, \"train\": {\"steps\": 2}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool ready;
    if (!ready) {
        fuzz_write("base.json", base_config, sizeof base_config - 1);
        ready = true;
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    zoo_config *c = zoo_config_parse(text, "fuzz.json", fuzz_dir(), NULL, 0);
    if (c) {
        char *back = zoo_config_text(c);
        free(back);
        zoo_config_free(c);
    }
    free(text);
    return 0;
}
