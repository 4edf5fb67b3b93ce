/* zoo: the host command line. */
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static const char usage[] =
    "usage: zoo [--help] [--version] COMMAND [ARGS]\n"
    "\n"
    "zoo trains and runs language-model plugins (word2vec, ELMo, GPT, BERT)\n"
    "built on one shared tensor and autograd library, libzoo.\n"
    "\n"
    "options:\n"
    "  --help       show this help and exit\n"
    "  --version    print the version of zoo and libzoo and exit\n"
    "\n"
    "Model commands (list, info, train, generate, ...) arrive with the plugin runtime.\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("zoo %s (libzoo %s)\n", ZOO_VERSION_STRING, zoo_version());
        return 0;
    }
    fprintf(stderr, "zoo: unknown command '%s' (see zoo --help)\n", argv[1]);
    return 2;
}
