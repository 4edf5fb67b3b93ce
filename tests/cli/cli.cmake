# The command line as users run it (see test_cli.sh). Included from tests/CMakeLists.txt.
add_test(NAME cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh ${PROJECT_BINARY_DIR})
set_tests_properties(cli PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
