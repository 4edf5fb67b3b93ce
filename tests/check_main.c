#include <stdlib.h>

#include "check_util.h"

int main(void) {
    /* Single-threaded BLAS and pool in the parent: nothing to lose across Check's forks. */
    zoo_threads_set(1);
    SRunner *runner = srunner_create(make_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
