/* The runner for the example's suites when they are built out of tree
 * (zoo's tree has its own, tests/check_main.c). */
#include <check.h>
#include <stdlib.h>

#include "zoo/threads.h"

Suite *make_suite(void);

int main(void) {
    zoo_threads_set(1); /* Check forks per test: no pool to lose across a fork */
    SRunner *runner = srunner_create(make_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
