/* Labeled example files (host/runs/labeled_examples.c): the first byte
 * picks the format (tsv, sst, trec) and the UTF-8 policy; the rest is the
 * file, read as training examples (labels added) and again as held-out ones
 * (labels checked against the first). */
#include "fuzz_util.h"
#include "labeled_examples.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const formats[] = {"tsv", "sst", "trec", "csv"};
    const char *format = formats[data[0] & 3];
    zoo_utf8_policy policy = data[0] & 4 ? ZOO_UTF8_REPLACE : ZOO_UTF8_ERROR;
    const char *path = fuzz_write("examples.txt", data + 1, size - 1);
    zoo_labeled_examples train = {0}, held_out = {0};
    zoo_labels labels = {0};
    if (zoo_labeled_examples_read(&train, &labels, path, "train", format, policy, true) == ZOO_OK)
        zoo_labeled_examples_read(&held_out, &labels, path, "eval", format, policy, false);
    zoo_labeled_examples_free(&train);
    zoo_labeled_examples_free(&held_out);
    zoo_labels_free(&labels);
    return 0;
}
