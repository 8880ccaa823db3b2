/*
 * sink-hexdump.c: -x, a chunk of data as SPEC shows it: the record's text
 * as the header line, then the bytes as the lines xxd prints, each after
 * the chunk's mark ("> " sent, "< " received), the offset counting the
 * bytes of that direction.  `grep '^> ' | cut -c3- | xxd -r` gives them
 * back.
 */
#include "sockpair.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The longest line xxd_line() writes, with the "> " before it. */
enum { XXD_LINE_MAX = 2 + 16 + 1 + 40 + 2 + 16 + 1 };

/* One line as xxd prints it: offset, 8 groups of 2 bytes, the text. */
static size_t xxd_line(char *out, uint64_t offset, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t used = (size_t)sprintf(out, "%08" PRIx64 ":", offset);

	for (size_t i = 0; i < 16; i++) {
		if (i % 2 == 0)
			out[used++] = ' ';
		out[used++] = i < n ? digits[p[i] >> 4] : ' ';
		out[used++] = i < n ? digits[p[i] & 15] : ' ';
	}
	out[used++] = ' ';
	out[used++] = ' ';
	for (size_t i = 0; i < n; i++)
		out[used++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[used++] = '\n';
	return used;
}

void sink_hexdump_emit(const struct record *r)
{
	static char text[64 * 1024];
	size_t used = 0;

	/* Lines go out a bufferful at a time: a write per line would be the
	 * cost of -x, not the formatting.  The chunk stays whole. */
	out_hold(true);
	if (r->text_len + 1 < sizeof(text)) {
		memcpy(text, r->text, r->text_len);
		used = r->text_len;
		text[used++] = '\n';
	}
	for (size_t at = 0; at < r->data_len; at += 16) {
		if (used + XXD_LINE_MAX > sizeof(text)) {
			out_write(text, used);
			used = 0;
		}
		text[used++] = r->mark;
		text[used++] = ' ';
		used += xxd_line(text + used, r->offset + at, r->data + at,
				 r->data_len - at < 16 ? r->data_len - at : 16);
	}
	out_write(text, used);
	out_hold(false);
}
