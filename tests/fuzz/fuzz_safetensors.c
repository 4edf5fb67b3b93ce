/* safetensors files (core/src/formats/safetensors.c): the header and the
 * data, every tensor read back as float32 and int32 and checked finite. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "zoo/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zoo_st_file *f = NULL;
    if (zoo_st_open(fuzz_write("m.safetensors", data, size), &f) != ZOO_OK) return 0;
    for (int i = 0; i < zoo_st_count(f); i++) {
        const char *dtype;
        int ndim;
        int64_t shape[ZOO_MAX_DIMS];
        zoo_st_info(f, i, &dtype, &ndim, shape);
        zoo_st_find(f, zoo_st_name(f, i));
        size_t nbytes;
        zoo_st_data(f, i, &nbytes);
        int64_t numel = zoo_st_numel(f, i);
        if (numel < 0 || numel > (1 << 20)) continue;
        void *buf = malloc((size_t)(numel ? numel : 1) * 4);
        if (!buf) continue;
        if (zoo_st_read_f32(f, i, buf, numel) == ZOO_OK) zoo_st_check_finite(f, i, buf, numel);
        zoo_st_read_i32(f, i, buf, numel);
        free(buf);
    }
    for (int i = 0; i < zoo_st_metadata_count(f); i++) {
        const char *value;
        const char *key = zoo_st_metadata_at(f, i, &value);
        if (key) zoo_st_metadata(f, key);
    }
    zoo_st_close(f);
    return 0;
}
