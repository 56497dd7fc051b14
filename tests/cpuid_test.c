// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID feature words of a guest's CPU (user/cpuid.h), which the
 * source sends and the destination checks the VM it started against: what
 * QEMU reports goes on the wire and comes back the same, anything else a
 * peer may send is refused, and the bits a destination lacks are named.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "cpuid.h"

/* An EPYC's as QEMU 7.2 reports them (qom-get feature-words), in part. */
static void epyc(struct cpuid_words *c)
{
	c->nr = 0;
	cpuid_add(c, 1, 0, "ECX", 4141363723u);
	cpuid_add(c, 1, 0, "EDX", 126614525);
	cpuid_add(c, 7, 0, "EBX", 9961897);
	cpuid_add(c, 7, 0, "ECX", 0);
	cpuid_add(c, 0x80000001, 0, "EDX", 768867325);
	cpuid_add(c, 0xd, 1, "EAX", 5);
}

TEST(travels_and_comes_back_the_same)
{
	struct cpuid_words sent, got;
	char line[1024], again[1024];

	epyc(&sent);
	ASSERT_EQ(0, cpuid_format(&sent, line, sizeof(line)));
	/* The word of no bits stays home. */
	EXPECT_STREQ("1.0.ecx=f6d8320b,1.0.edx=78bfbfd,7.0.ebx=9801a9,"
		     "80000001.0.edx=2dd3fbfd,d.1.eax=5", line);
	ASSERT_EQ(0, cpuid_parse(line, &got));
	EXPECT_EQ(5, got.nr);
	ASSERT_EQ(0, cpuid_format(&got, again, sizeof(again)));
	EXPECT_STREQ(line, again);
	EXPECT_EQ(0, cpuid_parse("", &got));
	EXPECT_EQ(0, got.nr);
	EXPECT_EQ(-E2BIG, cpuid_format(&sent, line, 20));
}

TEST(malformed_words_refused)
{
	static const char *const bad[] = {
		"1.0.ecx", "1.0.ecx=", "1.0=5", "1..ecx=5", ".0.ecx=5",
		"1.0.exx=5", "1.0.ECX=5", "1.0.ecx=5,", ",1.0.ecx=5",
		"1.0.ecx=5,,7.0.ebx=1", "1.0.ecx=F", "1.0.ecx=-5",
		"1.0.ecx=123456789", "100000000.0.ecx=1", "1.0.ecx=5 ",
		"1.0.ecx==5", "1.0.ecxx=5", "1;0.ecx=5",
	};
	struct cpuid_words c;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *words = bad[i];

		EXPECT_EQ(-EINVAL, cpuid_parse(words, &c))
			TH_LOG("'%s' taken", words);
	}
}

TEST(too_many_words_refused)
{
	struct cpuid_words c = { 0 };
	char line[4096] = "";
	size_t used = 0;
	unsigned int i;

	for (i = 0; i < CPUID_WORDS_MAX; i++)
		ASSERT_EQ(0, cpuid_add(&c, i, 0, "eax", 1));
	EXPECT_EQ(-E2BIG, cpuid_add(&c, i, 0, "eax", 1));
	/* Adding to a word it has is not a new word. */
	EXPECT_EQ(0, cpuid_add(&c, 0, 0, "EAX", 2));
	EXPECT_EQ(-EINVAL, cpuid_add(&c, 0, 0, "esp", 2));
	for (i = 0; i <= CPUID_WORDS_MAX; i++)
		used += snprintf(line + used, sizeof(line) - used, "%s%x.0.eax=1",
				 i ? "," : "", i);
	EXPECT_EQ(-EINVAL, cpuid_parse(line, &c));
}

TEST(missing_bits_named)
{
	struct cpuid_words need, have;
	char why[256];

	epyc(&need);
	epyc(&have);
	cpuid_missing(&need, &have, why, sizeof(why));
	EXPECT_STREQ("", why);
	/* More there is fine: the guest never saw it. */
	cpuid_add(&have, 7, 0, "ecx", 1 << 9);
	cpuid_missing(&need, &have, why, sizeof(why));
	EXPECT_STREQ("", why);

	/* popcnt (1.ECX bit 23) gone; a word the destination lacks whole. */
	have.nr = 0;
	cpuid_add(&have, 1, 0, "ecx", 4141363723u & ~(1u << 23));
	cpuid_add(&have, 1, 0, "edx", 126614525);
	cpuid_add(&have, 7, 0, "ebx", 9961897);
	cpuid_add(&have, 0x80000001, 0, "edx", 768867325);
	cpuid_missing(&need, &have, why, sizeof(why));
	EXPECT_STREQ("CPUID.(EAX=01H,ECX=0H):ECX bit 23; "
		     "CPUID.(EAX=0DH,ECX=1H):EAX bits 0 2", why);
	/* Cut short, still a string. */
	cpuid_missing(&need, &have, why, 10);
	EXPECT_STREQ("CPUID.(EA", why);
}

TEST_HARNESS_MAIN
