/* Shared main() body for the CUnit test programs: run every suite, exit 1 on
 * any failure so that `make check` sees it. */
#ifndef PVIO_CUNIT_MAIN_H
#define PVIO_CUNIT_MAIN_H

#include <CUnit/Basic.h>
#include <stdio.h>

static inline int pvio_cunit_run(CU_SuiteInfo *suites)
{
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed =
		CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	unsigned ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (ran == 0) {
		fprintf(stderr, "CUnit: no test ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}

#endif
