# The suites link the plugin's objects (and so libhdf5 and cJSON) to test its
# parts. This file is included from tests/, where ../CMakeLists.txt's
# find_package results are not in scope: find them again (cached, so cheap).
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT TARGET PkgConfig::CJSON)
  pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
endif()
foreach(suite test_elmo test_elmo_hdf5)
  if(TARGET ${suite})
    target_sources(${suite} PRIVATE $<TARGET_OBJECTS:elmo_objects>)
    target_include_directories(${suite} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/.. ${HDF5_C_INCLUDE_DIRS})
    target_compile_definitions(${suite} PRIVATE ${HDF5_C_DEFINITIONS})
    target_link_libraries(${suite} PRIVATE ${HDF5_C_LIBRARIES} PkgConfig::CJSON)
  endif()
endforeach()

# The commands as users run them (needs the zoo binary and the registry).
add_test(NAME elmo-cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_elmo_cli.sh ${PROJECT_BINARY_DIR}
  ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(elmo-cli PROPERTIES TIMEOUT 300 ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
