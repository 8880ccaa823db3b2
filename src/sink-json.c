/*
 * sink-json.c: --json, records as JSON Lines on stderr: {"event":...,
 * "time":..., fields...}, the first line always the start event (SPEC).
 * A chunk of data becomes "data" events of at most JSON_DATA_BYTES each,
 * its bytes in hex; a result row goes to stdout as an object of its
 * fields alone, as bench's rows are.
 */
#include "sockpair.h"

#include <stdio.h>

/* Bytes of data in one JSON data event: its hex is twice as long. */
enum { JSON_DATA_BYTES = 4096, JSON_LINE = 2 * JSON_DATA_BYTES + 1024 };

static bool start_sent;

static void send_start(void)
{
	char line[256];
	struct json j;

	start_sent = true;
	json_begin(&j, line, sizeof(line), "start", 0.0);
	json_integer(&j, "version", 1);
	json_cstring(&j, "command", record_command);
	json_cstring(&j, "sockpair", SOCKPAIR_VERSION);
	out_write(line, json_end(&j));
}

void sink_json_start(void)
{
	if (start_sent || !out_has_writer())
		return;
	out_hold(true);
	send_start();
	out_hold(false);
}

static void write_event(const char *line, size_t n)
{
	out_hold(true);
	if (!start_sent && out_has_writer())
		send_start();
	out_write(line, n);
	out_hold(false);
}

static void put_fields(struct json *j, const struct record *r)
{
	for (unsigned i = 0; i < r->nfields; i++) {
		const struct record_field *f = &r->field[i];

		switch (f->type) {
		case FIELD_STRING:
			if (f->s)
				json_string(j, f->key, f->s, f->len);
			else
				json_cstring(j, f->key, NULL);
			break;
		case FIELD_INTEGER:
			json_integer(j, f->key, f->i);
			break;
		case FIELD_NUMBER:
			json_number(j, f->key, f->d, f->decimals);
			break;
		case FIELD_BOOL:
			json_bool(j, f->key, f->b);
			break;
		case FIELD_OPEN:
			json_open(j, f->key);
			break;
		case FIELD_CLOSE:
			json_close(j);
			break;
		}
	}
}

static void emit_data(const struct record *r)
{
	static const char digits[] = "0123456789abcdef";
	char line[JSON_LINE], hex[2 * JSON_DATA_BYTES];
	struct json j;

	for (size_t at = 0; at < r->data_len; at += JSON_DATA_BYTES) {
		size_t len = r->data_len - at < JSON_DATA_BYTES ? r->data_len - at : JSON_DATA_BYTES;

		for (size_t i = 0; i < len; i++) {
			hex[2 * i] = digits[r->data[at + i] >> 4];
			hex[2 * i + 1] = digits[r->data[at + i] & 15];
		}
		json_begin(&j, line, sizeof(line), r->event, r->time);
		put_fields(&j, r);
		json_integer(&j, "bytes", (long long)len);
		json_integer(&j, "offset", (long long)(r->offset + at));
		json_string(&j, "hex", hex, 2 * len);
		write_event(line, json_end(&j));
	}
}

void sink_json_emit(const struct record *r)
{
	char line[JSON_LINE];
	struct json j;

	if (r->kind == RECORD_DATA) {
		emit_data(r);
		return;
	}
	if (r->to_stdout) {
		json_start(&j, line, sizeof(line));
		put_fields(&j, r);
		fwrite(line, 1, json_end(&j), stdout);
		return;
	}
	json_begin(&j, line, sizeof(line), r->event, r->time);
	put_fields(&j, r);
	write_event(line, json_end(&j));
}
