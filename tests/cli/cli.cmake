# The command line as users run it (see test_cli.sh). Included from tests/CMakeLists.txt.
add_test(NAME cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh ${PROJECT_BINARY_DIR})
set_tests_properties(cli PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
add_test(NAME train COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_train.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(train PROPERTIES TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Commands that run for a while behave like zoo train (test_runs.sh): eval's
# scored tokens and a run's own held-out split, a run without one, a diverging
# run, BERT's evaluation lines, finetune's last line, zoo run scripts run twice.
add_test(NAME runs COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_runs.sh ${PROJECT_BINARY_DIR})
set_tests_properties(runs PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Faults (test_faults.sh): the temporaries of killed saves removed on resume;
# a save failing for want of space (RLIMIT_FSIZE, and a small tmpfs when run as
# root) keeps the last good checkpoint and recovers; one process per run or
# output directory (the lock of train, finetune and compare, refused with the
# holder's pid, free again after SIGKILL).
add_test(NAME faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_faults.sh ${PROJECT_BINARY_DIR})
set_tests_properties(faults PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# zoo bench: its table, its JSON, --set routing and failing plugins (test_bench.sh).
add_test(NAME bench-cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_bench.sh ${PROJECT_BINARY_DIR})
set_tests_properties(bench-cli PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# zoo embed: one layer, every layer, the scalar mix, a sequence a line
# (test_embed.sh), on the tiny BERT fixture and a word2vec file.
add_test(NAME embed COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_embed.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(embed PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# int8 models (test_quantize.sh): zoo quantize on a trained GPT, a fine-tuned
# classifier and HuggingFace BERT, GPT-2 and ELMo directories; every inference
# command on the file, bit for bit as --quantize int8 at load, close to
# float32; training, fine-tuning and export refused; hostile files refused.
add_test(NAME quantize COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_quantize.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(quantize PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# zoo probe (test_probe.sh): a linear probe on a bigram trained there, the
# tiny BERT fixture and a word2vec file; windows against whole examples.
add_test(NAME probe COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_probe.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(probe PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Runs and exports of zoo 0.1.0 (tests/fixtures/compat-0.1) load, evaluate,
# tokenize and resume as they did with it.
add_test(NAME compat COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_compat.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(compat PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# The documents against the code they describe: identifiers, paths, commands,
# quoted code and the host contract of docs/plugin-guide.md, docs/abi.md,
# docs/core.md and README.md (check_docs.sh), and a stale document caught word by word.
add_test(NAME docs COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_docs.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(docs PROPERTIES TIMEOUT 120)

# The conformance suite (zoo check-plugin, host/plugins/conformance.h) on
# every plugin the build found (plugins/CMakeLists.txt), against the build
# tree's registry. A plugin's known failures, found by the suite and
# reported, would be listed as zoo_known_failures_NAME; check_plugin.sh
# requires exactly those to fail. There are none.
get_property(zoo_plugins GLOBAL PROPERTY ZOO_PLUGINS)
foreach(name ${zoo_plugins})
  add_test(NAME check-plugin-${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_plugin.sh $<TARGET_FILE:zoo_host>
      ${PROJECT_BINARY_DIR}/registry/registry.json ${name} ${zoo_known_failures_${name}})
  set_tests_properties(check-plugin-${name} PROPERTIES TIMEOUT 300
    ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endforeach()
# zoo train --dry-run's parameter counts against closed-form formulas for GPT
# and BERT, and the seed's sizes (configs/seed/) against their published counts.
add_test(NAME param-counts COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_param_counts.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(param-counts PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# zoo compare on a tiny comparison of two toy models (test_compare.sh): its
# outputs, failures, reproducibility, Ctrl-C and --resume, --dry-run.
add_test(NAME compare COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_compare.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(compare PROPERTIES TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Every command's --json through a JSON parser (test_json.sh): json_check
# reads standard input and exits 0 for one JSON document (--lines: JSON Lines).
add_executable(json_check ${CMAKE_CURRENT_LIST_DIR}/../json_check.c)
target_link_libraries(json_check PRIVATE PkgConfig::CJSON)
add_test(NAME json COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_json.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(json PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Text in (test_text_in.sh): --text, --text repeated, --text-file FILE and -,
# generate's --prompt and fill-mask's TEXT agree, and text given twice is refused alike.
add_test(NAME text-in COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_text_in.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(text-in PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Special files (test_special_files.sh): a device, FIFO or directory given as a
# file to read is refused at once; --out onto a device or FIFO is refused and
# leaves it as it was, onto a symbolic link writes the link's target.
add_test(NAME special-files COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_special_files.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(special-files PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Every command README.md, docs/ and plugins/*/README.md show, run as shown
# (test_doc_commands.sh; tests/cli/doc_commands.txt classifies each: run,
# a sample output compared, a synopsis against --help, or skipped by name),
# in about a minute. Not in the sanitizer build, whose training is too slow
# for that budget; its commands are the Release build's.
if(NOT ZOO_SANITIZE)
  add_test(NAME doc-commands COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_doc_commands.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(doc-commands PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endif()
# models too big for the machine refused with the estimate; a 2,000-layer build
# in linear time (test_memory_bounds.sh)
add_test(NAME memory-bounds COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_memory_bounds.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(memory-bounds PROPERTIES TIMEOUT 120 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Memcheck (test_valgrind.sh, label valgrind; `ctest -L valgrind` runs it
# alone): a short training run of every shipped plugin, generate, fill-mask,
# embed and a resume, each with no invalid access and no leak. About 15 s;
# skipped when valgrind is absent, and not in sanitizer builds.
if(NOT ZOO_SANITIZE)
  add_test(NAME valgrind COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_valgrind.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(valgrind PROPERTIES TIMEOUT 600 LABELS valgrind SKIP_RETURN_CODE 77)
endif()
# Plugins trusted explicitly (test_trust.sh): --require-pinned, the notice of
# an unpinned drop-in, files others could write refused, a shadowing drop-in
# marked, a HuggingFace directory opening its plugin alone, zoo list --check's
# exit status, zoo compare past a plugin failing in create or loss.
add_test(NAME trust COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_trust.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(trust PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# Saves under faults (test_saves.sh), through fault_inject.c, a library
# LD_PRELOADed into zoo that kills it or fails its writes, fsyncs, renames,
# links and unlinks at a chosen call: a save killed at every one of its calls
# (at least 50) leaves latest and the previous checkpoint whole and the run
# resumable; failing writes and fsyncs leave the old file and name the new
# one; runs of gpt, bert, word2vec and a fine-tuning killed at a seeded step
# resume to the uninterrupted run's losses, bit for bit. Built without the sanitizers (the
# script puts the sanitizer runtime first in LD_PRELOAD when zoo has it).
add_library(zoo_fault_inject MODULE ${CMAKE_CURRENT_LIST_DIR}/../fault_inject.c)
set_target_properties(zoo_fault_inject PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra" LINK_OPTIONS "")
target_link_libraries(zoo_fault_inject PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME saves COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_saves.sh ${PROJECT_BINARY_DIR}
  $<TARGET_FILE:zoo_fault_inject>)
set_tests_properties(saves PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# The malformed-file corpus (tests/malformed/, test_malformed.sh): one file per
# failure mode of every parser of untrusted input, each refused with the exit
# status and the one-line message expected.tsv gives, never a crash or a hang;
# in the sanitizer build too. npy_read reaches the host's .npy reader.
add_executable(npy_read ${CMAKE_CURRENT_LIST_DIR}/../malformed/npy_read.c)
target_link_libraries(npy_read PRIVATE zoo zoohost)
add_test(NAME malformed COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_malformed.sh ${PROJECT_BINARY_DIR}
  ${PROJECT_SOURCE_DIR} $<TARGET_FILE:npy_read> ${ZOO_SANITIZE})
set_tests_properties(malformed PROPERTIES TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
