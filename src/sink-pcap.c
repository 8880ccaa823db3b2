/*
 * sink-pcap.c: --pcap, the records of data and of flows' ends as a
 * pcapng capture (the IETF draft "PCAP Now Generic": a Section Header
 * Block, one Interface Description Block of LINKTYPE_RAW, so that each
 * packet starts at its IP header, then an Enhanced Packet Block per
 * packet).
 *
 * Each connection becomes a TCP flow that Wireshark's analysis takes as
 * a healthy one, so that its dissectors (HTTP, RESP, PostgreSQL) decode
 * it: a handshake before its first packet, sequence and acknowledgement
 * numbers that count each direction's bytes, no segment over 65000 bytes
 * (an IP packet's length is 16 bits), the IP, TCP and UDP checksums
 * filled in.  Nothing is ever lost or resent, so no packet is marked.
 *
 * Hand-written, not libpcap: libpcap writes classic pcap only, which has
 * no comments (a UNIX socket's path, the peer's pid), and three block
 * types are all a writer needs.  Each block goes out whole, in one call
 * to the writer, so a reader of a FIFO never sees half of one.
 */
#include "sockpair.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

enum {
	SEGMENT_MAX = 65000,	/* payload per TCP segment */
	DATAGRAM_MAX = 65507,	/* the most a UDP packet over IPv4 carries */
	LINKTYPE_RAW = 101,
	BLOCK_SHB = 0x0A0D0D0A, BLOCK_IDB = 1, BLOCK_EPB = 6,
	OPT_END = 0, OPT_COMMENT = 1, OPT_SHB_USERAPPL = 4, OPT_IF_NAME = 2,
	TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10,
	/* A window of 65535 << 14 bytes, 1 GiB, announced in the handshake:
	 * the receiver acknowledges every 64 MiB, well inside it. */
	WINDOW = 65535, WINDOW_SCALE = 14, ACK_EVERY = 64 << 20,
	MSS = 65495,		/* loopback's */
	/* the largest block: an EPB's 28 bytes, IPv6's 40, TCP's 28, the
	 * payload, a comment option and the trailing length */
	BLOCK_MAX = 28 + 40 + 28 + DATAGRAM_MAX + 4 + 232 + 4 + 4,
};

static capture_writer *writer;
static void (*closer)(void);
static int failure;		/* the errno the writer failed with */
static unsigned char block[BLOCK_MAX];
static uint16_t ip_id;

/* ---- blocks --------------------------------------------------------------- */

static size_t put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return 2;
}

static size_t put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An option: its code, length, value and the padding to 32 bits. */
static size_t put_option(unsigned char *p, uint16_t code, const char *value)
{
	size_t n = strlen(value);

	put16(p, code);
	put16(p + 2, (uint16_t)n);
	memcpy(p + 4, value, n);
	memset(p + 4 + n, 0, pad4(n) - n);
	return 4 + pad4(n);
}

/* The block in block[0..len), its lengths filled in, to the writer; the
 * first failure stops the capture (the command reports it at its end). */
static void write_block(uint32_t type, size_t len)
{
	len += 4;
	put32(block, type);
	put32(block + 4, (uint32_t)len);
	put32(block + len - 4, (uint32_t)len);
	if (writer && writer(block, len) < 0) {
		failure = errno ? errno : EIO;
		writer = NULL;
	}
}

/* The file's header: a section, and the one interface its packets use. */
int sink_pcap_start(capture_writer *write, void (*close_file)(void))
{
	size_t n = 8;

	writer = write;
	closer = close_file;
	failure = 0;
	n += put32(block + n, 0x1A2B3C4D);	/* the byte-order magic */
	n += put16(block + n, 1);
	n += put16(block + n, 0);
	n += put32(block + n, 0xFFFFFFFF);	/* section length: not given */
	n += put32(block + n, 0xFFFFFFFF);
	n += put_option(block + n, OPT_SHB_USERAPPL, "sockpair " SOCKPAIR_VERSION);
	n += put32(block + n, OPT_END);
	write_block(BLOCK_SHB, n);
	n = 8;
	n += put16(block + n, LINKTYPE_RAW);
	n += put16(block + n, 0);
	n += put32(block + n, 0);		/* no snapshot length */
	n += put_option(block + n, OPT_IF_NAME, "sockpair");
	n += put32(block + n, OPT_END);
	write_block(BLOCK_IDB, n);
	if (failure) {
		errno = failure;
		return -1;
	}
	return 0;
}

bool sink_pcap_on(void)
{
	return writer != NULL;
}

/* A forked child, or the end: no more blocks, the file let go of (a
 * child's peer, the parent, records the same bytes). */
void sink_pcap_forget(void)
{
	writer = NULL;
	if (closer)
		closer();
	closer = NULL;
}

/* The end: no more blocks; the file is its opener's to close. */
void sink_pcap_stop(void)
{
	writer = NULL;
	closer = NULL;
}

/* 0, or the errno a write of the capture failed with. */
int sink_pcap_error(void)
{
	return failure;
}

/* ---- packets -------------------------------------------------------------- */

/* One end of a packet: an address as IPv4 or IPv6, and a port. */
struct ip_end {
	bool v6;
	unsigned char addr[16];	/* IPv4's in its first 4 bytes */
	uint16_t port;		/* host order */
};

static void ip_end_of(const struct sockaddr_storage *ss, struct ip_end *e)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		memcpy(e->addr, &in->sin_addr, 4);
		e->port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		e->v6 = true;
		memcpy(e->addr, &in6->sin6_addr, 16);
		e->port = ntohs(in6->sin6_port);
	}
}

/* An IPv4 end beside an IPv6 one (a proxy between them): ::ffff:a.b.c.d. */
static void map_to_v6(struct ip_end *e)
{
	unsigned char v4[4];

	memcpy(v4, e->addr, 4);
	memset(e->addr, 0, 10);
	e->addr[10] = e->addr[11] = 0xff;
	memcpy(e->addr + 12, v4, 4);
	e->v6 = true;
}

/*
 * The one's complement sum of p's 16-bit big-endian words, added to sum.
 * Most of it four bytes at a time in the machine's order, folded, then
 * put in network order: the sum commutes with swapping bytes (RFC 1071,
 * 2.B), and a 64 KiB segment costs a sixteenth of the loop by bytes.
 */
static uint32_t sum16(uint32_t sum, const unsigned char *p, size_t n)
{
	const uint16_t one = 1;
	uint64_t wide = 0;
	uint32_t word;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		memcpy(&word, p + i, 4);
		wide += word;
	}
	while (wide >> 16)
		wide = (wide & 0xffff) + (wide >> 16);
	if (*(const unsigned char *)&one)	/* little-endian */
		wide = (wide >> 8 | wide << 8) & 0xffff;
	sum += (uint32_t)wide;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)(p[i] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t put16be(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

static size_t put32be(unsigned char *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
	return 4;
}

/* The IP header for a transport segment of len bytes; returns its size. */
static size_t put_ip(unsigned char *p, const struct ip_end *src, const struct ip_end *dst,
		     uint8_t protocol, size_t len)
{
	if (src->v6) {
		put32be(p, 0x60000000);
		put16be(p + 4, (uint16_t)len);
		p[6] = protocol;
		p[7] = 64;
		memcpy(p + 8, src->addr, 16);
		memcpy(p + 24, dst->addr, 16);
		return 40;
	}
	p[0] = 0x45;
	p[1] = 0;
	put16be(p + 2, (uint16_t)(20 + len));
	put16be(p + 4, ip_id++);
	put16be(p + 6, 0x4000);	/* don't fragment */
	p[8] = 64;
	p[9] = protocol;
	put16be(p + 10, 0);
	memcpy(p + 12, src->addr, 4);
	memcpy(p + 16, dst->addr, 4);
	put16be(p + 10, fold(sum16(0, p, 20)));
	return 20;
}

/* The checksum TCP and UDP share: the pseudo-header's addresses,
 * protocol and length, then the segment. */
static uint16_t transport_checksum(const struct ip_end *src, const struct ip_end *dst,
				   uint8_t protocol, const unsigned char *seg, size_t len)
{
	size_t alen = src->v6 ? 16 : 4;
	uint32_t sum = sum16(sum16(0, src->addr, alen), dst->addr, alen);

	sum += protocol + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
	return fold(sum16(sum, seg, len));
}

/* An EPB around the packet already at block[28..28+len): now, the
 * comment if any. */
static void write_packet(size_t len, size_t original, const char *comment)
{
	uint64_t us = clock_epoch_us();
	size_t n = 8;

	n += put32(block + n, 0);		/* the interface */
	n += put32(block + n, (uint32_t)(us >> 32));
	n += put32(block + n, (uint32_t)us);
	n += put32(block + n, (uint32_t)len);
	n += put32(block + n, (uint32_t)original);
	memset(block + n + len, 0, pad4(len) - len);
	n += pad4(len);
	if (comment && *comment) {
		n += put_option(block + n, OPT_COMMENT, comment);
		n += put32(block + n, OPT_END);
	}
	write_block(BLOCK_EPB, n);
}

/* The flow's two ends, from's first, as one IP family. */
static void packet_ends(const struct capture_flow *f, int from, const struct sockaddr *other,
		      struct ip_end *src, struct ip_end *dst)
{
	struct sockaddr_storage far;

	ip_end_of(&f->end[from], src);
	ip_end_of(&f->end[1 - from], dst);
	/* A UNIX sender's name has no IP form: the flow's made-up end stays. */
	if (other && f->datagrams && (other->sa_family == AF_INET || other->sa_family == AF_INET6)) {
		memset(&far, 0, sizeof(far));
		memcpy(&far, other, other->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								 : sizeof(struct sockaddr_in));
		ip_end_of(&far, from == 0 ? dst : src);
	}
	if (src->v6 != dst->v6)
		map_to_v6(src->v6 ? dst : src);
}

/* One TCP segment from end `from`: its flags, bytes, and (SYN) options. */
static void tcp_segment(struct capture_flow *f, int from, unsigned flags, const void *data,
			size_t n, const char *comment)
{
	struct ip_end src, dst;
	unsigned char *ip = block + 28, *tcp;
	size_t hlen = flags & TCP_SYN ? 28 : 20;

	packet_ends(f, from, NULL, &src, &dst);
	tcp = ip + put_ip(ip, &src, &dst, IPPROTO_TCP, hlen + n);
	put16be(tcp, src.port);
	put16be(tcp + 2, dst.port);
	put32be(tcp + 4, f->seq[from]);
	put32be(tcp + 8, flags & TCP_ACK ? f->seq[1 - from] : 0);
	tcp[12] = (unsigned char)(hlen / 4 << 4);
	tcp[13] = (unsigned char)flags;
	put16be(tcp + 14, WINDOW);
	put16be(tcp + 16, 0);
	put16be(tcp + 18, 0);
	if (flags & TCP_SYN) {
		const unsigned char options[8] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, WINDOW_SCALE };

		memcpy(tcp + 20, options, sizeof(options));
	}
	if (n)
		memcpy(tcp + hlen, data, n);
	put16be(tcp + 16, transport_checksum(&src, &dst, IPPROTO_TCP, tcp, hlen + n));
	write_packet((size_t)(tcp - ip) + hlen + n, (size_t)(tcp - ip) + hlen + n, comment);
	f->seq[from] += (uint32_t)n + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
	if (flags & TCP_ACK)
		f->acked[1 - from] = f->seq[1 - from];
}

/* SYN, SYN-ACK, ACK: the flow begins, its comment on the first packet. */
static void handshake(struct capture_flow *f)
{
	f->started = true;
	tcp_segment(f, 0, TCP_SYN, NULL, 0, f->comment);
	tcp_segment(f, 1, TCP_SYN | TCP_ACK, NULL, 0, NULL);
	tcp_segment(f, 0, TCP_ACK, NULL, 0, NULL);
}

/* Bytes from one end, in segments; the other end acknowledges them now
 * and then, as a receiver inside its window would. */
static void tcp_data(struct capture_flow *f, int from, const unsigned char *p, size_t n)
{
	while (n) {
		size_t part = n < SEGMENT_MAX ? n : SEGMENT_MAX;

		tcp_segment(f, from, TCP_PSH | TCP_ACK, p, part, NULL);
		p += part;
		n -= part;
		if (f->seq[from] - f->acked[from] >= ACK_EVERY)
			tcp_segment(f, 1 - from, TCP_ACK, NULL, 0, NULL);
	}
}

/* An end finished: its FIN, and the other's acknowledgement of it. */
static void tcp_fin(struct capture_flow *f, int from)
{
	if (f->fin[from])
		return;
	f->fin[from] = true;
	tcp_segment(f, from, TCP_FIN | TCP_ACK, NULL, 0, NULL);
	tcp_segment(f, 1 - from, TCP_ACK, NULL, 0, NULL);
}

static void tcp_reset(struct capture_flow *f, int from)
{
	tcp_segment(f, from, TCP_RST | TCP_ACK, NULL, 0, NULL);
	f->reset = true;
}

/* A datagram: one UDP packet (its first DATAGRAM_MAX bytes, the block
 * saying how long it was). */
static void udp_datagram(struct capture_flow *f, const struct record *r)
{
	struct ip_end src, dst;
	unsigned char *ip = block + 28, *udp;
	size_t n = r->data_len < DATAGRAM_MAX ? r->data_len : DATAGRAM_MAX;
	uint16_t sum;

	packet_ends(f, r->from, r->other, &src, &dst);
	udp = ip + put_ip(ip, &src, &dst, IPPROTO_UDP, 8 + n);
	put16be(udp, src.port);
	put16be(udp + 2, dst.port);
	put16be(udp + 4, (uint16_t)(8 + n));
	put16be(udp + 6, 0);
	memcpy(udp + 8, r->data, n);
	sum = transport_checksum(&src, &dst, IPPROTO_UDP, udp, 8 + n);
	put16be(udp + 6, sum ? sum : 0xffff);
	write_packet((size_t)(udp - ip) + 8 + n, (size_t)(udp - ip) + 8 + r->data_len,
		     f->started ? NULL : f->comment);
	f->started = true;
}

void sink_pcap_emit(const struct record *r)
{
	struct capture_flow *f = r->flow;

	if (!writer || !f || f->reset)
		return;
	if (f->datagrams) {
		if (r->kind == RECORD_DATA)
			udp_datagram(f, r);
		return;
	}
	if (!f->started)
		handshake(f);
	if (r->kind == RECORD_FLOW_START)
		return;
	if (r->kind == RECORD_DATA)
		tcp_data(f, r->from, r->data, r->data_len);
	else if (r->reset)
		tcp_reset(f, r->from);
	else
		tcp_fin(f, r->from);
}
