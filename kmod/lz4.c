// SPDX-License-Identifier: GPL-2.0
/*
 * Page compression (lz4.h).
 */

#include <linux/highmem.h>
#include <linux/slab.h>
#include <shm/wire.h>

#include "lz4.h"

bool shm_lz4_available(void)
{
	return crypto_has_comp("lz4", 0, 0);
}

int shm_lz4_init(struct shm_lz4 *lz4)
{
	struct crypto_comp *tfm;

	tfm = crypto_alloc_comp("lz4", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	lz4->tfm = tfm;
	lz4->packed = kmalloc(PAGE_SIZE, GFP_KERNEL);
	lz4->page = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!lz4->packed || !lz4->page) {
		shm_lz4_free(lz4);
		return -ENOMEM;
	}
	return 0;
}

void shm_lz4_free(struct shm_lz4 *lz4)
{
	if (lz4->tfm)
		crypto_free_comp(lz4->tfm);
	kfree(lz4->packed);
	kfree(lz4->page);
	memset(lz4, 0, sizeof(*lz4));
}

unsigned int shm_lz4_pack(struct shm_lz4 *lz4, struct page *page)
{
	unsigned int len = SHM_WIRE_LZ4_MAX;

	/*
	 * A copy, so that what LZ4 reads stays put while it reads it: the
	 * guest may rewrite the page meanwhile (then it is dirty again and
	 * goes in a later round, as a torn page sent as it is would).
	 */
	memcpy_from_page(lz4->page, page, 0, PAGE_SIZE);
	if (crypto_comp_compress(lz4->tfm, lz4->page, PAGE_SIZE, lz4->packed,
				 &len))
		return 0;
	return len;
}

bool shm_lz4_unpack(struct shm_lz4 *lz4, unsigned int len)
{
	unsigned int out = PAGE_SIZE;

	/* LZ4 writes no more than @out, however malformed its input. */
	return !crypto_comp_decompress(lz4->tfm, lz4->packed, len, lz4->page,
				       &out) && out == PAGE_SIZE;
}
