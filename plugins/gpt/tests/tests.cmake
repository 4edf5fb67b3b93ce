# The suite links the plugin's objects to call its prefill (see ../CMakeLists.txt).
target_sources(test_gpt PRIVATE $<TARGET_OBJECTS:gpt_objects>)
target_include_directories(test_gpt PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
