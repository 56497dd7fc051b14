// SPDX-License-Identifier: GPL-2.0
/*
 * Holes in a VMM's guest RAM (holes.h).
 */

#include <linux/bitmap.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/path.h>

#include "holes.h"

/* Called for each hole [@start, @end) found; returns false to stop. */
typedef bool (*shm_hole_fn)(void *arg, unsigned long start, unsigned long end);

/*
 * The holes of @file between offsets @from and @to, passed to @fn as VMM
 * addresses (@from is mapped at @hva). False if @fn stopped the walk.
 */
static bool shm_holes_in_file(struct file *file, loff_t from, loff_t to,
			      unsigned long hva, shm_hole_fn fn, void *arg)
{
	loff_t size = i_size_read(file_inode(file)), hole, data, start, end;

	to = min(to, size);
	while (from < to) {
		hole = vfs_llseek(file, from, SEEK_HOLE);
		if (hole < 0 || hole >= to)
			break;
		data = vfs_llseek(file, hole, SEEK_DATA);
		if (data == -ENXIO || data > to)
			data = to;
		else if (data < 0)
			break;
		start = round_up(hole, PAGE_SIZE);
		end = round_down(data, PAGE_SIZE);
		if (start < end &&
		    !fn(arg, hva + (start - from), hva + (end - from)))
			return false;
		hva += data - from;
		from = data;
	}
	return true;
}

/*
 * Calls @fn for the holes of [@hva, @end) in the order they come. Each
 * shared tmpfs mapping in the range is looked at through a file of our own,
 * opened on the VMM's: seeking moves a file's position, and the VMM's
 * stays where it was.
 */
static void shm_holes_walk(struct mm_struct *mm, unsigned long hva,
			   unsigned long end, shm_hole_fn fn, void *arg)
{
	struct vm_area_struct *vma;
	unsigned long stop;
	struct file *file;
	struct path path;
	bool tmpfs, more = true;
	loff_t pos = 0;

	while (more && hva < end) {
		mmap_read_lock(mm);
		vma = find_vma(mm, hva);
		if (!vma || vma->vm_start > hva) {
			mmap_read_unlock(mm);
			return;
		}
		stop = min(end, vma->vm_end);
		tmpfs = (vma->vm_flags & VM_SHARED) && vma->vm_file &&
			file_inode(vma->vm_file)->i_sb->s_magic == TMPFS_MAGIC;
		if (tmpfs) {
			path = vma->vm_file->f_path;
			path_get(&path);
			pos = ((loff_t)vma->vm_pgoff << PAGE_SHIFT) +
			      (hva - vma->vm_start);
		}
		mmap_read_unlock(mm);
		if (tmpfs) {
			file = dentry_open(&path, O_RDONLY | O_LARGEFILE,
					   current_cred());
			path_put(&path);
			if (IS_ERR(file))
				return;
			more = shm_holes_in_file(file, pos, pos + (stop - hva),
						 hva, fn, arg);
			fput(file);
		}
		hva = stop;
	}
}

struct shm_holes_map {
	unsigned long hva;
	unsigned long *holes;
};

static bool shm_holes_mark(void *arg, unsigned long start, unsigned long end)
{
	struct shm_holes_map *map = arg;

	bitmap_set(map->holes, (start - map->hva) >> PAGE_SHIFT,
		   (end - start) >> PAGE_SHIFT);
	return true;
}

void shm_holes_find(struct mm_struct *mm, unsigned long hva, u64 npages,
		    unsigned long *holes)
{
	struct shm_holes_map map = { .hva = hva, .holes = holes };

	shm_holes_walk(mm, hva, hva + npages * PAGE_SIZE, shm_holes_mark, &map);
}

/* The first hole found, and no more. */
static bool shm_holes_first(void *arg, unsigned long start, unsigned long end)
{
	unsigned long *first = arg;

	first[0] = start;
	first[1] = end;
	return false;
}

bool shm_holes_only(struct mm_struct *mm, unsigned long hva, u64 len)
{
	unsigned long first[2] = {};

	shm_holes_walk(mm, hva, hva + len, shm_holes_first, first);
	return first[0] == hva && first[1] == hva + len;
}
