#include "classifier_head.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/io.h"
#include "zoo/status.h"

/* config.json's id2label as labels.txt would hold it (a label a line, by
 * id), into h->labels; ZOO_OK and none when the file or key is absent. */
static int id2label_lines(const char *dir, zoo_head_file *h) {
    snprintf(h->labels_from, sizeof h->labels_from, "%s/config.json", dir);
    char *text = zoo_read_file(h->labels_from, NULL);
    if (!text) return ZOO_OK; /* the weights' own error comes first */
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    int st = ZOO_OK, n = cJSON_IsObject(map) ? cJSON_GetArraySize(map) : 0;
    size_t size = 1;
    for (int i = 0; i < n && !st; i++) {
        char key[24];
        snprintf(key, sizeof key, "%d", i);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(map, key);
        if (!cJSON_IsString(name) || strchr(name->valuestring, '\n'))
            st = zoo_error(ZOO_ERR_FORMAT, "%s: id2label: no label for id %d among its %d",
                           h->labels_from, i, n);
        else
            size += strlen(name->valuestring) + 1;
    }
    if (!st && n > 0 && !(h->labels = malloc(size))) st = zoo_error(ZOO_ERR_NOMEM, "out of memory");
    for (int i = 0, at = 0; i < n && !st; i++) {
        char key[24];
        snprintf(key, sizeof key, "%d", i);
        at += sprintf(h->labels + at, "%s\n",
                      cJSON_GetObjectItemCaseSensitive(map, key)->valuestring);
    }
    cJSON_Delete(root);
    return st;
}

int zoo_head_file_open(const zoo_saved_model *m, const char *model, zoo_head_file *out) {
    memset(out, 0, sizeof *out);
    out->weight = out->bias = -1;
    int st = ZOO_OK;
    if (m->checkpoint) {
        out->file = m->checkpoint->file;
        const char *path = m->checkpoint->path, *slash = strrchr(path, '/');
        snprintf(out->labels_from, sizeof out->labels_from, "%.*slabels.txt",
                 slash ? (int)(slash - path + 1) : 0, path);
        out->labels = zoo_read_file(out->labels_from, NULL); /* none: numbered */
    } else if (zoo_is_foreign_directory(model)) {
        if ((st = zoo_st_open_model_dir(model, &out->own)) == ZOO_OK) {
            out->file = out->own;
            st = id2label_lines(model, out);
        }
    }
    if (out->file) {
        out->weight = zoo_st_find(out->file, "classifier.weight");
        out->bias = zoo_st_find(out->file, "classifier.bias");
    }
    if (st) zoo_head_file_close(out);
    return st;
}

void zoo_head_file_close(zoo_head_file *h) {
    zoo_st_close(h->own);
    free(h->labels);
    memset(h, 0, sizeof *h);
    h->weight = h->bias = -1;
}

bool zoo_head_file_found(const zoo_head_file *h) {
    return h->weight >= 0 && h->bias >= 0;
}
