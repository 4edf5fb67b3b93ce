# What the MPI tests share, sourced by each once it has set $zoo: skipped
# (exit 77, with the reason) without mpirun or a zoo built with MPI; then the
# environment every mpirun of a test needs. CI runs as root, which Open MPI
# refuses unless told. A sanitizer build: the MPI library's own allocations
# are not zoo's leaks (lsan.supp), and matching them needs whole stacks: Open
# MPI is built without frame pointers, so the fast unwinder stops at its
# first frame.
command -v mpirun >/dev/null 2>&1 || { echo "skipped: no mpirun (Debian: openmpi-bin)"; exit 77; }
"$zoo" --version | grep -q "data-parallel training: MPI" ||
    { echo "skipped: zoo was built without MPI ($("$zoo" --version | grep "^data-parallel training"); libopenmpi-dev, -DZOO_MPI=ON)"; exit 77; }
mpi_tests=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$mpi_tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
unset ZOO_REGISTRY ZOO_PLUGIN_PATH ZOO_MPI
