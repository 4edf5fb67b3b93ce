# The command line as users run it (see test_cli.sh). Included from tests/CMakeLists.txt.
add_test(NAME cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh ${PROJECT_BINARY_DIR})
set_tests_properties(cli PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
add_test(NAME train COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_train.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(train PROPERTIES TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")

# The conformance suite (zoo check-plugin, host/conformance.h) on every
# shipped plugin, that is every entry of registry/registry.json, against the
# build tree's registry. A plugin's known failures, found by the suite and
# reported, are listed here; check_plugin.sh requires exactly those to fail.
# Layer norm's backward sums its weight and bias gradients in one partial per
# worker, and the worker count follows the thread count
# (core/src/ops/layernorm.c, workers_for), so those gradients move in their
# last bits with --threads:
set(zoo_known_failures_gpt threads-gradients)
set(zoo_known_failures_bert threads-gradients)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/registry/registry.json)
file(READ ${PROJECT_SOURCE_DIR}/registry/registry.json zoo_shipped)
string(JSON zoo_n_shipped LENGTH "${zoo_shipped}" plugins)
math(EXPR zoo_last_shipped "${zoo_n_shipped} - 1")
foreach(i RANGE ${zoo_last_shipped})
  string(JSON name GET "${zoo_shipped}" plugins ${i} name)
  add_test(NAME check-plugin-${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_plugin.sh $<TARGET_FILE:zoo_host>
      ${PROJECT_BINARY_DIR}/registry/registry.json ${name} ${zoo_known_failures_${name}})
  set_tests_properties(check-plugin-${name} PROPERTIES TIMEOUT 300
    ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endforeach()
