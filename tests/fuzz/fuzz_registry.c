/* Plugin registries (host/plugins/registry.c): one registry file, as
 * --registry names it, and the same text as a drop-in's manifest. */
#include "fuzz_util.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("registry.json", data, size);
    const char *files[] = {path};
    zoo_registry_sources src = {.registry_files = files, .n_registry_files = 1};
    zoo_registry *r = zoo_registry_load(&src);
    if (r) {
        zoo_registry_find(r, "gpt");
        zoo_registry_find_tokenizer(r, "gpt2");
        zoo_registry_read_manifest(r, path, "lib.so");
        zoo_registry_free(r);
    }
    return 0;
}
