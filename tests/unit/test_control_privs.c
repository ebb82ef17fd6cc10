/*
 * control/privs: the privilege drop (the real one runs in a child, as root).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/privs.h"

static void test_no_user(void **state)
{
	char err[128] = "";

	(void)state;
	assert_int_equal(hf_privs_drop(NULL, err, sizeof(err)), 0);
	assert_int_equal(hf_privs_drop("", err, sizeof(err)), 0);
}

static void test_unknown_user(void **state)
{
	char err[128] = "";

	(void)state;
	assert_int_equal(hf_privs_drop("no-such-user-hf", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no such user"));
}

static void test_drop_to_nobody(void **state)
{
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0 || hf_privs_lookup("nobody", &uid, &gid) < 0) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[128];
		gid_t groups[4];

		if (hf_privs_drop("nobody", err, sizeof(err)) != 0)
			_exit(1);
		if (getuid() != uid || geteuid() != uid || getgid() != gid)
			_exit(2);
		if (getgroups(4, groups) != 1 || groups[0] != gid)
			_exit(3);
		if (setuid(0) == 0)
			_exit(4);
		/* Already that user: a second drop is a no-op, not an error. */
		if (hf_privs_drop("nobody", err, sizeof(err)) != 0)
			_exit(5);
		/* Not root and another user wanted: refused. */
		if (hf_privs_drop("root", err, sizeof(err)) != -EPERM)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_user),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_drop_to_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
