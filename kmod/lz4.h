/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page compression (SHM_WIRE_LZ4): one guest page at a time, with the
 * kernel's LZ4 through the crypto API ("lz4"; its module loads on first
 * use). Each stream of a session that compresses, or whose source does,
 * has its own from the start: a transform's work memory and these buffers
 * are used by one thread only.
 */
#ifndef _SHM_LZ4_H
#define _SHM_LZ4_H

#include <linux/crypto.h>
#include <linux/mm_types.h>

struct shm_lz4 {
	struct crypto_comp *tfm;
	void *packed;	/* a compressed page, as sent or received */
	void *page;	/* a page: its copy to compress, or the one unpacked */
};

/* Whether this kernel has LZ4 (loading its module if need be). */
bool shm_lz4_available(void);
int shm_lz4_init(struct shm_lz4 *lz4);
void shm_lz4_free(struct shm_lz4 *lz4);

/*
 * Compresses @page into lz4->packed: its length, or 0 if LZ4 does not
 * make it SHM_WIRE_LZ4_MAX bytes or fewer (then the page goes as it is).
 */
unsigned int shm_lz4_pack(struct shm_lz4 *lz4, struct page *page);

/* Whether the @len bytes in lz4->packed make exactly one page, lz4->page. */
bool shm_lz4_unpack(struct shm_lz4 *lz4, unsigned int len);

#endif /* _SHM_LZ4_H */
