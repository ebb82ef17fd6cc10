#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/pkt.h"
#include "tests/unit/hex.h"

/* Building blocks, in hex. The question www.example.com/A/IN sits at 12..32,
 * so "example.com" is at offset 16 and records start at 33. */
#define HDR(qd, an, ns, ar) "1234 0100 " qd an ns ar
#define C0 "0000 "
#define C1 "0001 "
#define C2 "0002 "
#define QNAME "03 777777 07 6578616d706c65 03 636f6d 00 "
#define Q_WWW QNAME "0001 0001 "
#define OPT_HDR "00 0029 1000 00008000 "          /* udp 4096, DO */
#define OPT0 OPT_HDR "0000 "
#define A_REC "c00c 0001 0001 00000e10 0004 c0000201 "
#define TTL "00000e10 "
#define LABEL63 "3f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
#define LABEL60 "3c" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"

struct bad_case {
	const char *what;
	const char *hex;
	int error;
};

static const struct bad_case bad_cases[] = {
	{ "empty message", "", HF_ETRUNC },
	{ "header of 11 octets", "1234 0100 0001 0000 0000 00", HF_ETRUNC },
	{ "two questions", HDR(C2, C0, C0, C0) Q_WWW Q_WWW, HF_EQDCOUNT },
	{ "question announced, absent", HDR(C1, C0, C0, C0), HF_ETRUNC },
	{ "qname cut inside a label", HDR(C1, C0, C0, C0) "03 7777", HF_ETRUNC },
	{ "qname without root label", HDR(C1, C0, C0, C0) "03 777777", HF_ETRUNC },
	{ "qtype missing", HDR(C1, C0, C0, C0) QNAME, HF_ETRUNC },
	{ "qclass cut", HDR(C1, C0, C0, C0) QNAME "0001 00", HF_ETRUNC },
	{ "extended label type 0x40", HDR(C1, C0, C0, C0) "41 61 00 0001 0001", HF_ELABELTYPE },
	{ "reserved label type 0x80", HDR(C1, C0, C0, C0) "81 61 00 0001 0001", HF_ELABELTYPE },
	{ "pointer into the header", HDR(C1, C0, C0, C0) "c000 0001 0001", HF_EPTRRANGE },
	{ "pointer to itself", HDR(C1, C0, C0, C0) "c00c 0001 0001", HF_EPTRLOOP },
	{ "pointer past the end", HDR(C1, C0, C0, C0) "c0ff 0001 0001", HF_EPTRRANGE },
	{ "pointer cut in half", HDR(C1, C0, C0, C0) "c0", HF_ETRUNC },
	{ "qname of 320 octets", HDR(C1, C0, C0, C0)
	  LABEL63 LABEL63 LABEL63 LABEL63 LABEL63 "00 0001 0001", HF_ENAMELEN },
	{ "name of 256 octets through a pointer", HDR(C1, C1, C0, C0)
	  LABEL60 LABEL63 LABEL63 LABEL63 "00 0001 0001 "  /* 254 octets: legal */
	  "01 62 c00c 0001 0001" TTL "0004 c0000201", HF_ENAMELEN },
	{ "forward pointer in an owner", HDR(C1, C1, C0, C0) Q_WWW "c02f 0001 0001" TTL "0004 c0000201", HF_EPTRLOOP },
	{ "loop between two answers", HDR(C1, C2, C0, C0) Q_WWW
	  "c031 0001 0001" TTL "0004 c0000201 c021 0001 0001" TTL "0004 c0000201", HF_EPTRLOOP },
	{ "answer announced, absent", HDR(C1, C1, C0, C0) Q_WWW, HF_ETRUNC },
	{ "answer without rdlength", HDR(C1, C1, C0, C0) Q_WWW "c00c 0001 0001" TTL, HF_ETRUNC },
	{ "answer owner cut", HDR(C1, C1, C0, C0) Q_WWW "05 6162", HF_ETRUNC },
	{ "rdlength past the end", HDR(C1, C1, C0, C0) Q_WWW "c00c 0001 0001" TTL "0008 c0000201", HF_ERDLEN },
	{ "A of 3 octets", HDR(C1, C1, C0, C0) Q_WWW "c00c 0001 0001" TTL "0003 c00002", HF_ERDATA },
	{ "A of 5 octets", HDR(C1, C1, C0, C0) Q_WWW "c00c 0001 0001" TTL "0005 c000020101", HF_ERDATA },
	{ "AAAA of 4 octets", HDR(C1, C1, C0, C0) Q_WWW "c00c 001c 0001" TTL "0004 20010db8", HF_ERDATA },
	{ "CNAME running past its RDATA", HDR(C1, C1, C0, C0) Q_WWW "c00c 0005 0001" TTL "0003 03 616263 00", HF_ERDATA },
	{ "CNAME with a trailing octet", HDR(C1, C1, C0, C0) Q_WWW "c00c 0005 0001" TTL "0004 c010 0000", HF_ERDATA },
	{ "CNAME with a pointer past the end", HDR(C1, C1, C0, C0) Q_WWW "c00c 0005 0001" TTL "0002 c0ff", HF_EPTRRANGE },
	{ "CNAME with a forward pointer", HDR(C1, C1, C0, C0) Q_WWW "c00c 0005 0001" TTL "0002 c02d", HF_EPTRLOOP },
	{ "NS with a reserved label type", HDR(C1, C0, C1, C0) Q_WWW "c010 0002 0001" TTL "0002 8100", HF_ELABELTYPE },
	{ "MX of one octet", HDR(C1, C1, C0, C0) Q_WWW "c00c 000f 0001" TTL "0001 00", HF_ERDATA },
	{ "SOA without its numbers", HDR(C1, C0, C1, C0) Q_WWW "c010 0006 0001" TTL "0004 c010 c010", HF_ERDATA },
	{ "SRV without target", HDR(C1, C1, C0, C0) Q_WWW "c00c 0021 0001" TTL "0006 000a 0005 0035", HF_ERDATA },
	{ "RRSIG shorter than its fixed part", HDR(C1, C1, C0, C0) Q_WWW "c00c 002e 0001" TTL "0004 00010d02", HF_ERDATA },
	{ "trailing octets", HDR(C1, C0, C0, C0) Q_WWW "00", HF_ETRAILING },
	{ "two OPT records", HDR(C1, C0, C0, C2) Q_WWW OPT0 OPT0, HF_EMULTIOPT },
	{ "OPT in the answer section", HDR(C1, C1, C0, C0) Q_WWW OPT0, HF_EOPTSECTION },
	{ "OPT in the authority section", HDR(C1, C0, C1, C0) Q_WWW OPT0, HF_EOPTSECTION },
	{ "OPT owned by a non-root name", HDR(C1, C0, C0, C1) Q_WWW "c00c 0029 1000 00000000 0000", HF_EOPTOWNER },
	{ "OPT fixed part cut", HDR(C1, C0, C0, C1) Q_WWW "00 0029 1000 0000", HF_ETRUNC },
	{ "OPT rdlength past the end", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "0010 000a 0008", HF_ERDLEN },
	{ "option longer than the OPT RDATA", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "0006 fde9 0004 0102", HF_EOPTLEN },
	{ "option header cut", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "0002 fde9", HF_EOPTLEN },
	{ "cookie of 7 octets", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "000b 000a 0007 01020304050607", HF_ECOOKIE },
	{ "cookie with a 4-octet server part", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR
	  "0010 000a 000c 0102030405060708 090a0b0c", HF_ECOOKIE },
	{ "cookie of 41 octets", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "002d 000a 0029 "
	  "0102030405060708 0102030405060708 0102030405060708 0102030405060708 0102030405060708 01", HF_ECOOKIE },
	{ "EDE of one octet", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "0005 000f 0001 06", HF_EEDELEN },
	{ "17 EDNS options", HDR(C1, C0, C0, C1) Q_WWW OPT_HDR "0044 "
	  "fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 "
	  "fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 fde90000 fde90000", HF_ETOOMANYOPT },
	{ "additional announced, absent", HDR(C1, C0, C0, C2) Q_WWW OPT0, HF_ETRUNC },
};

static void test_malformed_table(void **state)
{
	(void)state;
	uint8_t wire[1024];
	struct hf_pkt pkt;
	struct hf_rr rr[16];

	assert_true(HF_ARRAY_SIZE(bad_cases) >= 40);
	for (size_t i = 0; i < HF_ARRAY_SIZE(bad_cases); i++) {
		int len = hex_decode(bad_cases[i].hex, wire, sizeof(wire));
		assert_true(len >= 0);
		int ret = hf_pkt_parse(&pkt, wire, (size_t)len, rr, HF_ARRAY_SIZE(rr));
		if (ret != bad_cases[i].error)
			fail_msg("case %zu \"%s\": got %d (%s), want %d (%s)", i, bad_cases[i].what,
				 ret, hf_strerror(ret), bad_cases[i].error,
				 hf_strerror(bad_cases[i].error));
		/* Without a record array the same checks apply. */
		assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), bad_cases[i].error);
		assert_int_equal(pkt.header_ok, len >= 12);
	}
}

static void test_too_many_records(void **state)
{
	(void)state;
	uint8_t wire[256];
	struct hf_pkt pkt;
	struct hf_rr rr[1];
	int len = hex_decode(HDR(C1, C2, C0, C0) Q_WWW A_REC A_REC, wire, sizeof(wire));

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, rr, 1), HF_ETOOMANYRR);
	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_int_equal(hf_pkt_parse(&pkt, wire, 70000, NULL, 0), -EMSGSIZE);
}

static void test_query_with_edns(void **state)
{
	(void)state;
	uint8_t wire[256];
	struct hf_pkt pkt;
	int len = hex_decode("beef 0110 0001 0000 0000 0001 "
			     "03 577757 07 4578416d706c65 03 636f6d 00 001c 0001 "
			     "00 0029 04d0 00018000 001e "
			     "000a 0008 0102030405060708 "  /* cookie */
			     "000f 0003 0006 78 "             /* EDE 6 "x" */
			     "000c 0002 0000 "                /* padding */
			     "fde9 0001 ff",                  /* unknown, kept */
			     wire, sizeof(wire));

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_true(pkt.header_ok);
	assert_int_equal(pkt.id, 0xbeef);
	assert_int_equal(HF_FLAGS_OPCODE(pkt.flags), HF_OPCODE_QUERY);
	assert_true(pkt.flags & HF_FLAG_RD);
	assert_true(pkt.flags & HF_FLAG_CD);
	assert_true(pkt.has_question);
	assert_int_equal(pkt.qtype, HF_TYPE_AAAA);
	assert_int_equal(pkt.qclass, HF_CLASS_IN);
	assert_int_equal(pkt.qname_len, 17);
	assert_int_equal(pkt.qname_off, 12);
	assert_memory_equal(pkt.qname, "\3www\7example\3com", 17);       /* key: lower case */
	assert_memory_equal(wire + pkt.qname_off, "\3WwW\7ExAmple\3com", 17);  /* as sent */
	assert_int_equal(pkt.question_end, 33);

	assert_true(pkt.edns.present);
	assert_int_equal(pkt.edns.udp_size, 1232);
	assert_int_equal(pkt.edns.version, 1);
	assert_int_equal(pkt.edns.ext_rcode, 0);
	assert_true(pkt.edns.flags & HF_EDNS_FLAG_DO);
	assert_int_equal(pkt.edns.rr_off, 33);
	assert_int_equal(pkt.edns.n_opts, 4);

	unsigned from = 0;
	const struct hf_edns_opt *o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_COOKIE, &from);
	assert_non_null(o);
	assert_int_equal(o->len, 8);
	assert_memory_equal(wire + o->off, "\1\2\3\4\5\6\7\10", 8);
	assert_null(hf_edns_find(&pkt.edns, HF_EDNS_OPT_COOKIE, &from));
	o = hf_edns_find(&pkt.edns, HF_EDNS_OPT_EDE, NULL);
	assert_non_null(o);
	assert_int_equal(o->len, 3);
	assert_memory_equal(wire + o->off, "\0\6x", 3);
	o = hf_edns_find(&pkt.edns, 65001, NULL);
	assert_non_null(o);
	assert_int_equal(wire[o->off], 0xff);
	assert_non_null(hf_edns_find(&pkt.edns, HF_EDNS_OPT_PADDING, NULL));
}

static void test_response_with_compression(void **state)
{
	(void)state;
	uint8_t wire[512];
	struct hf_pkt pkt;
	struct hf_rr rr[8];
	uint8_t name[HF_NAME_MAXLEN];
	/* www.example.com CNAME cdn.example.com; cdn.example.com A; example.com NS ns.example.com */
	int len = hex_decode("1234 8580 0001 0002 0001 0001 " Q_WWW
			     "c00c 0005 0001" TTL "0006 03 63646e c010 "
			     "c02d 0001 0001 00000064 0004 c0000201 "
			     "c010 0002 0001" TTL "0005 02 6e73 c010 "
			     "00 0029 0200 0f000000 0000",
			     wire, sizeof(wire));

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, rr, HF_ARRAY_SIZE(rr)), 0);
	assert_int_equal(pkt.rr_count, 3);
	assert_int_equal(hf_pkt_rcode(&pkt), (0x0f << 4) | 0);
	assert_int_equal(rr[0].type, HF_TYPE_CNAME);
	assert_int_equal(rr[0].section, HF_SECTION_ANSWER);
	assert_int_equal(rr[1].type, HF_TYPE_A);
	assert_int_equal(rr[1].ttl, 100);
	assert_int_equal(rr[2].section, HF_SECTION_AUTHORITY);

	size_t pos = rr[1].owner_off;
	assert_int_equal(hf_name_unpack(wire, pkt.size, &pos, name), 17);
	assert_memory_equal(name, "\3cdn\7example\3com", 17);
	pos = rr[2].rdata_off;
	assert_int_equal(hf_name_unpack(wire, pkt.size, &pos, name), 16);
	assert_memory_equal(name, "\2ns\7example\3com", 16);
	assert_int_equal(pos, rr[2].rdata_off + rr[2].rdlength);
}

static void test_no_question(void **state)
{
	(void)state;
	uint8_t wire[64];
	struct hf_pkt pkt;
	int len = hex_decode(HDR(C0, C0, C0, C1) OPT_HDR "000c 000a 0008 0102030405060708",
			     wire, sizeof(wire));

	assert_int_equal(hf_pkt_parse(&pkt, wire, (size_t)len, NULL, 0), 0);
	assert_false(pkt.has_question);
	assert_true(pkt.edns.present);
}

/*
 * Published vectors, when ../shared/data is there: every packet must either
 * parse or be refused cleanly (ASan/UBSan watch the walk). Two layouts:
 * test_packets.2 and .3 hold one hex packet per line (with short numeric
 * labels between); .4 to .9 spread a packet over lines in drill's format,
 * with ';' comments, separated by ruler comments or "next packet" markers.
 */
struct vector_stats {
	int ok, bad;
};

static void parse_one_hex(const char *hex, struct vector_stats *st)
{
	static uint8_t wire[32768];
	static struct hf_rr rr[2048];
	struct hf_pkt pkt;
	int len = hex_decode(hex, wire, sizeof(wire));

	if (len < HF_DNS_HEADER_SIZE)
		return;
	int ret = hf_pkt_parse(&pkt, wire, (size_t)len, rr, HF_ARRAY_SIZE(rr));
	if (ret == 0)
		st->ok++;
	else
		st->bad++;
	if (ret != 0 && getenv("HF_TEST_VERBOSE"))
		print_message("refused (%s): %.60s\n", hf_strerror(ret), hex);
}

static int parse_vector_file(const char *path, bool one_per_line, struct vector_stats *st)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	static char line[16384], hex[65536];
	hex[0] = '\0';

	while (fgets(line, sizeof(line), f)) {
		bool separator = line[0] == '\n' || strstr(line, "next packet") ||
				 strncmp(line, "; 0 ", 4) == 0;
		char *comment = strchr(line, ';');
		if (comment)
			*comment = '\0';
		if (one_per_line) {
			if (strlen(line) >= 2 * HF_DNS_HEADER_SIZE)
				parse_one_hex(line, st);
			continue;
		}
		if (separator) {
			parse_one_hex(hex, st);
			hex[0] = '\0';
		} else if (strlen(hex) + strlen(line) < sizeof(hex)) {
			strcat(hex, line);
		}
	}
	parse_one_hex(hex, st);
	fclose(f);
	return 0;
}

static void test_unbound_vectors(void **state)
{
	(void)state;
	static const char *const files[] = { "2", "3", "4", "5", "6", "7", "8", "9" };
	char path[256];
	struct vector_stats st = { 0 };

	for (size_t i = 0; i < HF_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/unbound-packets/test_packets.%s",
			 shared_data_dir(), files[i]);
		if (parse_vector_file(path, i < 2, &st) < 0)
			skip();
	}
	print_message("unbound vectors: %d parsed, %d refused\n", st.ok, st.bad);
	assert_true(st.ok >= 230);  /* 237 at the time of writing; the rest are garbage or forward pointers */
}

static void test_c_ares_inputs(void **state)
{
	(void)state;
	char dirpath[256];
	snprintf(dirpath, sizeof(dirpath), "%s/c-ares-fuzzinput", shared_data_dir());
	DIR *d = opendir(dirpath);
	if (!d)
		skip();
	struct dirent *e;
	int n = 0, ok = 0;
	uint8_t wire[65536];
	struct hf_rr rr[4096];
	struct hf_pkt pkt;

	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		size_t len = fread(wire, 1, sizeof(wire), f);
		fclose(f);
		ok += hf_pkt_parse(&pkt, wire, len, rr, HF_ARRAY_SIZE(rr)) == 0;
		n++;
	}
	closedir(d);
	print_message("c-ares inputs: %d read, %d parsed\n", n, ok);
	assert_true(n >= 70);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_too_many_records),
		cmocka_unit_test(test_query_with_edns),
		cmocka_unit_test(test_response_with_compression),
		cmocka_unit_test(test_no_question),
		cmocka_unit_test(test_unbound_vectors),
		cmocka_unit_test(test_c_ares_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
