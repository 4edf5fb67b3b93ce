# The suite links the plugin's objects to call its prefill (see ../CMakeLists.txt).
target_sources(test_gpt PRIVATE $<TARGET_OBJECTS:gpt_objects>)
target_include_directories(test_gpt PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)

# The conformance suite on GPT-1's post-LN blocks too (the plain suite runs in tests/cli/cli.cmake).
add_test(NAME check-plugin-gpt-post
  COMMAND $<TARGET_FILE:zoo_host> check-plugin gpt --set layer_norm_position=post
    --registry ${PROJECT_BINARY_DIR}/registry/registry.json)
set_tests_properties(check-plugin-gpt-post PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
