# In zoo's tree: the suite calls the plugin's own functions, so it links the
# plugin's objects (see ../CMakeLists.txt).
target_sources(test_llama PRIVATE $<TARGET_OBJECTS:llama_objects>)
target_include_directories(test_llama PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
