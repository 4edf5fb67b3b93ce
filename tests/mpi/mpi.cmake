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
# word2vec over MPI (test_mpi_word2vec.sh, label mpi; skipped without mpirun or
# an MPI build): resume — 2 processes stopped and resumed with 2 end bit for
# bit where the uninterrupted run does, the vocabulary they count together is
# one process's, and a resume with another number of processes is refused
# (seconds); quality — on ../shared's gutenberg10 (skipped without it), the
# median analogy accuracy and WordSim-353 of 2-process runs over seeds 1-5
# lie within the range of 1-process runs (ten runs, 85 s on 2 cores; not in
# the sanitizer build).
add_test(NAME mpi-word2vec-resume COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_mpi_word2vec.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} resume)
set_tests_properties(mpi-word2vec-resume PROPERTIES TIMEOUT 300 LABELS mpi SKIP_RETURN_CODE 77)
if(NOT ZOO_SANITIZE) # ten full trainings: too slow under the sanitizers
  add_test(NAME mpi-word2vec-quality COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_mpi_word2vec.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} quality)
  set_tests_properties(mpi-word2vec-quality PROPERTIES TIMEOUT 900 LABELS mpi SKIP_RETURN_CODE 77)
endif()
# zoo compare over MPI (test_compare_mpi.sh, label mpi): 1 process against
# mpirun with 2, 3 and 4 ranks (groups of one and data-parallel groups of two),
# the same table timings aside; --repeat, a failing model, --resume, --dry-run,
# mismatched configs. Skipped (77) without mpirun or an MPI build.
add_test(NAME compare-mpi COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_compare_mpi.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(compare-mpi PROPERTIES TIMEOUT 300 LABELS mpi SKIP_RETURN_CODE 77
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
