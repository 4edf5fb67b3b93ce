# The SDK test: install, build tests/sdk_plugin out of tree against the
# install, and drive it with the installed host (see test_sdk.sh). Included
# from tests/CMakeLists.txt; it needs the whole build (host, libzoo) done.
add_test(NAME sdk
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_sdk.sh ${PROJECT_BINARY_DIR}
    ${CMAKE_CURRENT_LIST_DIR}/../sdk_plugin)
set_tests_properties(sdk PROPERTIES TIMEOUT 300
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER}")

# The fifth model as a new user would add it: tests/llama built out of tree
# against the install, its suite, then driven as a drop-in (test_llama_example.sh).
add_test(NAME llama-example
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_llama_example.sh ${PROJECT_BINARY_DIR}
    ${PROJECT_SOURCE_DIR}/tests/llama ${PROJECT_SOURCE_DIR}/../shared/data)
set(zoo_example_cflags "")
if(ZOO_SANITIZE) # a test binary linking the sanitized libzoo must be sanitized too
  set(zoo_example_cflags "-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
set_tests_properties(llama-example PROPERTIES TIMEOUT 600
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER};ZOO_EXAMPLE_CFLAGS=${zoo_example_cflags}")
