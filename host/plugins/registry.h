/* The plugin registry: which plugins exist, where their libraries are, and
 * what they declare, read from JSON files without opening any library.
 *
 * Sources, in order of precedence (the first entry of a name wins; later
 * ones are kept, marked shadowed, and listed as such):
 *   1. each --registry FILE, in the order given;
 *   2. ZOO_REGISTRY (colon-separated files);
 *   3. ZOO_PLUGIN_PATH (colon-separated directories of NAME.so + NAME.json);
 *   4. the default registry beside the executable (build or install tree).
 * An explicit choice beats an implicit one, so a drop-in directory can
 * override a shipped plugin (zoo list marks such a drop-in).
 *
 * Trust (docs/security.md): a registry file, a drop-in directory or manifest,
 * or a library that another user could change (trust.h) is refused: the
 * file is recorded as a file error, the library as its entry's error. A
 * library is pinned when a registry file (not a drop-in manifest, which
 * lies beside the library it would vouch for) gives its sha256: the entry's
 * own, or, for a drop-in, that of any registry entry naming the same file. */
#ifndef ZOO_HOST_REGISTRY_H
#define ZOO_HOST_REGISTRY_H

#include <stdbool.h>

#define ZOO_EXTRA_MAX_ARGS 8
#include "zoo/plugin.h" /* ZOO_EXTRA_BUFFER_BYTES */

/* The type vocabulary of extra functions' C signatures. */
typedef enum zoo_extra_type {
    ZOO_X_VOID = 0, /* return only */
    ZOO_X_INT64,    /* int64_t */
    ZOO_X_DOUBLE,   /* double */
    ZOO_X_BOOL,     /* bool */
    ZOO_X_STRING,   /* argument: const char *; return: char * from malloc, freed by the host */
    ZOO_X_MODEL,    /* argument: zoo_model *, the loaded model (zoo call --model) */
    ZOO_X_BUFFER,   /* argument: char * to ZOO_EXTRA_BUFFER_BYTES bytes of output text */
} zoo_extra_type;

/* "int64" -> ZOO_X_INT64; -1 for an unknown name. */
int zoo_extra_type_parse(const char *name);
const char *zoo_extra_type_name(zoo_extra_type t);

/* An extra function as declared in a registry entry or manifest:
 *   {"name": "similar", "symbol": "word2vec_similar", "returns": "string",
 *    "args": ["model", "string", "int64"], "help": "..."} */
typedef struct zoo_extra_decl {
    char *name;   /* called as PLUGIN.name */
    char *symbol; /* exported symbol; defaults to name */
    char *help;   /* may be NULL */
    zoo_extra_type ret;
    int n_args;
    zoo_extra_type args[ZOO_EXTRA_MAX_ARGS];
    char *error; /* NULL, or why this extra is disabled (an unknown type ...) */
} zoo_extra_decl;

/* What a plugin's models are, in the words of a comparison table (zoo
 * compare, zoo info): the manifest's optional "card", e.g.
 *   "card": {"sees": "left only", "inputs": "token + position",
 *            "pretraining": "next-token language model",
 *            "layers": "n_layer", "width": "n_embd", "context": "n_positions"}
 * sees: what each position's vector is computed from; inputs: the input
 * embeddings; pretraining: the objective. layers, width (the hidden size)
 * and context (the most positions one forward takes) are each a
 * hyperparameter's name or a non-negative integer; a missing context means
 * any length. heads: the name prefixes of the parameters that only
 * pretraining uses ("cls." for BERT's masked-LM and next-sentence heads),
 * left out of the size a model is published with. Every field is optional
 * (NULL, or no heads, when absent). hf_classifier: the HuggingFace
 * architecture that holds a classifier head as zoo finetune trains one (a
 * linear layer on the pooled output, "BertForSequenceClassification"), for
 * zoo export --format hf; absent: export refuses such a head. */
typedef struct zoo_model_card {
    char *sees, *inputs, *pretraining, *hf_classifier;
    char *layers, *width, *context; /* a hyperparameter's name, or the number as text */
    char **heads;
    int n_heads;
} zoo_model_card;

/* The foreign directories a plugin imports (ZOO_CAP_IMPORT), declared so
 * that the host opens only the plugin whose format a directory is in:
 *   "imports": {"hf_model_types": ["gpt2"], "files": ["options.json"],
 *               "tokenizer_files": ["vocab.json", "encoder.json"]}
 * hf_model_types: config.json's "model_type" values it reads; files: names
 * whose presence marks its own format; tokenizer_files: names whose presence
 * marks tokenizer files it reads (import_tokenizer) in a directory with no
 * model it imports. Every list is optional. An entry without "imports" is
 * never offered a directory. */
typedef struct zoo_reg_imports {
    char **hf_model_types, **files, **tokenizer_files;
    int n_hf_model_types, n_files, n_tokenizer_files;
    bool declared; /* the entry has "imports" */
} zoo_reg_imports;

typedef struct zoo_reg_entry {
    char *name, *version, *summary;
    char *library; /* path, resolved relative to the file that declared it */
    char *source;  /* the registry or manifest file */
    int abi_major, abi_minor;
    char *sha256; /* 64 lowercase hex digits, or NULL when not pinned */
    zoo_extra_decl *extras;
    int n_extras;
    char **tokenizers; /* the tokenizer types the library provides (ABI 1.2), as declared */
    int n_tokenizers;
    zoo_model_card card;
    zoo_reg_imports imports;
    char *where;   /* the entry's JSON path in source, "plugins[3]." (or "" in a manifest) */
    char *error;   /* NULL, or the registry-level error that breaks this entry */
    bool shadowed; /* an earlier source has a plugin of the same name */
    bool shadows;  /* this entry wins over a later one of the same name */
    bool dropin;   /* from a ZOO_PLUGIN_PATH directory, not a registry file */
    /* the sha256 a registry file pins the library with (for a registry entry
     * its own sha256, for a drop-in one found by library path), and that
     * file; NULL when no registry pins it */
    char *pin, *pin_source;
} zoo_reg_entry;

typedef struct zoo_registry {
    zoo_reg_entry *entries;
    int count;
    char **file_errors; /* a registry file that could not be read at all */
    int n_file_errors;
    char **files; /* the registry files read, in order (not manifests) */
    int n_files;
} zoo_registry;

/* Where to look. NULL fields are skipped. */
typedef struct zoo_registry_sources {
    const char *const *registry_files; /* --registry, in order */
    int n_registry_files;
    const char *env_registry;    /* ZOO_REGISTRY */
    const char *env_plugin_path; /* ZOO_PLUGIN_PATH */
    const char *default_registry;
} zoo_registry_sources;

/* Reads every source. Never fails as a whole: broken files and entries are
 * recorded with their error. NULL only when out of memory. */
zoo_registry *zoo_registry_load(const zoo_registry_sources *src);
void zoo_registry_free(zoo_registry *r);

/* The winning (not shadowed) entry of a name, broken or not; NULL if none. */
const zoo_reg_entry *zoo_registry_find(const zoo_registry *r, const char *name);

/* The entry whose "tokenizers" declares tokenizer type `type`: the first
 * winning one without an error, else the first winning broken one (so that
 * loading it says what is wrong); NULL if none declares it. */
const zoo_reg_entry *zoo_registry_find_tokenizer(const zoo_registry *r, const char *type);

/* Whether the entry declares, in "imports", that it reads the directory:
 * config.json's model_type (read by the host, never by a plugin) is one of
 * its hf_model_types, or one of its files is there. tokenizer: its
 * tokenizer_files instead of its files (model types still count). */
bool zoo_registry_imports_dir(const zoo_reg_entry *e, const char *dir, bool tokenizer);

/* Parses one registry file / one drop-in manifest into r (appending). Each
 * entry's library is checked (trust.h); the file itself, and a drop-in
 * directory, are checked by zoo_registry_load before it reads them. */
void zoo_registry_read_file(zoo_registry *r, const char *path);
/* library_path: the default library, relative to the manifest, when it names none. */
void zoo_registry_read_manifest(zoo_registry *r, const char *json_path, const char *library_path);

#endif
