/*
 * error.c: the error record.  Leaves fill one where the failure happens,
 * while errno is still the call's, and return -1; only the command prints
 * it, once (report_failure).  This file depends on nothing else here.
 */
#include "sockpair.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A failure with no errno behind it: "CALL(DETAILS): why" as given.  Returns -1. */
int fail(struct sp_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->err = 0;
	va_start(ap, fmt);
	text_vformat(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* "CALL(DETAILS): strerror(err)", keeping err itself.  Returns -1. */
int fail_errno(struct sp_error *e, int status, int err, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	e->status = status;
	e->err = err;
	va_start(ap, fmt);
	text_vformat(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	used = strlen(e->text);
	snprintf(e->text + used, sizeof(e->text) - used, ": %s", strerror(err));
	return -1;
}
