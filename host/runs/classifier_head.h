/* Where a fine-tuned classifier's head lies: zoo finetune saves
 * classifier.weight (labels, width) and classifier.bias (labels) in the
 * run's checkpoint, with labels.txt (one label a line, in row order)
 * beside it; zoo export --format hf writes them into a HuggingFace
 * directory as BertForSequenceClassification names them, the labels as
 * config.json's id2label. zoo classify reads either, zoo export the first. */
#ifndef ZOO_HOST_CLASSIFIER_HEAD_H
#define ZOO_HOST_CLASSIFIER_HEAD_H

#include "saved_model.h"
#include "zoo/safetensors.h"

typedef struct zoo_head_file {
    const zoo_st_file *file; /* the checkpoint's, or `own`; NULL when neither */
    zoo_st_file *own;        /* a HuggingFace directory's model.safetensors, opened here */
    int weight, bias;        /* classifier.weight and .bias in file; -1 when absent */
    char *labels; /* one label a line (labels.txt, or id2label in order); NULL: none given */
    char labels_from[4200]; /* the file the labels came from, for messages */
} zoo_head_file;

/* The head of m (opened from MODEL by zoo_cli_open_model). ZOO_OK with
 * weight and bias -1 when the model has none; an error with its message
 * when a file is there but unreadable or its id2label is not one label per
 * id 0..n-1. Close with zoo_head_file_close. */
int zoo_head_file_open(const zoo_saved_model *m, const char *model, zoo_head_file *out);
void zoo_head_file_close(zoo_head_file *h);

/* Whether h has a head: both tensors. */
bool zoo_head_file_found(const zoo_head_file *h);

#endif
