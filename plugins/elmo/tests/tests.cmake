# The suites link the plugin's objects (and so libhdf5) to test its parts.
foreach(suite test_elmo test_elmo_hdf5)
  if(TARGET ${suite})
    target_sources(${suite} PRIVATE $<TARGET_OBJECTS:elmo_objects>)
    target_include_directories(${suite} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/.. ${HDF5_C_INCLUDE_DIRS})
    target_link_libraries(${suite} PRIVATE ${HDF5_C_LIBRARIES})
  endif()
endforeach()
