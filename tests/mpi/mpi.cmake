# Data-parallel training over MPI (test_mpi.sh, label mpi): 2 processes
# against 1 for gpt and bert, resuming with another number of processes, a
# rank killed, mismatched ranks refused. Skipped without mpirun or an MPI build.
add_executable(params_diff ${CMAKE_CURRENT_LIST_DIR}/params_diff.c)
target_link_libraries(params_diff PRIVATE zoo m)
add_test(NAME mpi COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_mpi.sh ${PROJECT_BINARY_DIR}
  $<TARGET_FILE:params_diff>)
set_tests_properties(mpi PROPERTIES TIMEOUT 600 LABELS mpi SKIP_RETURN_CODE 77
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;OMP_WAIT_POLICY=PASSIVE")
