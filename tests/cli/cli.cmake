# The command line as users run it (see test_cli.sh). Included from tests/CMakeLists.txt.
add_test(NAME cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh ${PROJECT_BINARY_DIR})
set_tests_properties(cli PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
add_test(NAME train COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_train.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(train PROPERTIES TIMEOUT 600 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
