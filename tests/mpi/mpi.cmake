# Data-parallel training over MPI (test_mpi.sh, label mpi): 2 processes
# against 1 for gpt and bert, resuming with another number of processes, a
# rank killed, mismatched ranks refused, ranks drifting apart stopped.
# Skipped without mpirun or an MPI build.
add_executable(params_diff ${CMAKE_CURRENT_LIST_DIR}/params_diff.c)
target_link_libraries(params_diff PRIVATE zoo m)
# one rank's sums made wrong (LD_PRELOAD): the parameter checksum must see it
set(perturb "")
if(MPI_C_FOUND)
  add_library(zoo_perturb_allreduce MODULE ${CMAKE_CURRENT_LIST_DIR}/perturb_allreduce.c)
  set_target_properties(zoo_perturb_allreduce PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra" LINK_OPTIONS "")
  target_link_libraries(zoo_perturb_allreduce PRIVATE MPI::MPI_C ${CMAKE_DL_LIBS})
  set(perturb $<TARGET_FILE:zoo_perturb_allreduce>)
endif()
add_test(NAME mpi COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_mpi.sh ${PROJECT_BINARY_DIR}
  $<TARGET_FILE:params_diff> ${perturb})
set_tests_properties(mpi PROPERTIES TIMEOUT 600 LABELS mpi SKIP_RETURN_CODE 77
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;OMP_WAIT_POLICY=PASSIVE")
