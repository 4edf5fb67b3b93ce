/* zoo checkpoints (host/runs/checkpoint.c): a safetensors file opened as a
 * checkpoint, its config and tokenizer (both JSON in the metadata) parsed as
 * resuming does, and its parameters loaded into a small fixed model: a
 * [4,3] weight "w", a [3] bias "b", with their optimizer state. */
#include "checkpoint.h"
#include "config.h"
#include "fuzz_tokenizer_common.h"
#include "fuzz_util.h"
#include "zoo/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zoo_checkpoint *ck = NULL;
    if (zoo_checkpoint_open(fuzz_write("ck.safetensors", data, size), &ck) != ZOO_OK) return 0;
    zoo_config_free(zoo_config_parse(ck->config, "zoo.config", fuzz_dir(), NULL, 0));
    if (ck->tokenizer) {
        zoo_tokenizer *t = NULL;
        if (zoo_tokenizer_from_json(ck->tokenizer, &t) == ZOO_OK) fuzz_exercise_tokenizer(t);
        zoo_tokenizer_free(t);
    }
    zoo_params *p = zoo_params_new();
    if (p) {
        int64_t ws[2] = {4, 3}, bs[1] = {3};
        if (zoo_params_add(p, "w", 2, ws, 0) && zoo_params_add(p, "b", 1, bs, 0))
            zoo_checkpoint_load_params(ck, p, true, NULL);
        zoo_params_free(p);
    }
    zoo_checkpoint_close(ck);
    return 0;
}
