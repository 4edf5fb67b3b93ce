# The SDK test: install, build tests/sdk_plugin out of tree against the
# install, and drive it with the installed host (see test_sdk.sh). Included
# from tests/CMakeLists.txt; it needs the whole build (host, libzoo) done.
add_test(NAME sdk
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_sdk.sh ${PROJECT_BINARY_DIR}
    ${CMAKE_CURRENT_LIST_DIR}/../sdk_plugin)
set_tests_properties(sdk PROPERTIES TIMEOUT 300
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER}")
