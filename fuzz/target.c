/*
 * Fuzz harness: http_parse_target() and http_check_path() on any bytes.
 * Whatever the input, they must return 0 or -1 without reading or writing
 * out of bounds, and an accepted target must be one a request can carry.
 */
#include "../src/sockpair.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_accepted(const struct http_target *t)
{
	size_t n = strlen(t->path);

	if (t->path[0] != '/' || n >= HTTP_PATH_MAX || t->host[0] == '\0')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t->path[i] <= ' ' || t->path[i] == 0x7f)
			abort();
	if (t->port > 65535)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *arg = malloc(size + 1), err[256];
	struct http_target t;

	if (!arg)
		return 0;
	memcpy(arg, data, size);
	arg[size] = '\0';
	if (http_parse_target(arg, &t, err, sizeof(err)) == 0)
		check_accepted(&t);
	(void)http_check_path(arg, err, sizeof(err));
	free(arg);
	return 0;
}
