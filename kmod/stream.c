// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP streams of a session: sockets user space connected and handed
 * over by descriptor, and the frames of include/uapi/shm/wire.h on them.
 */

#include <linux/file.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <net/sock.h>

#include "stream.h"

/* A peer silent this long is taken for gone. */
#define SHM_STREAM_TIMEOUT (30 * HZ)

int shm_stream_attach(struct shm_stream *stream, int fd,
		      struct netlink_ext_ack *extack)
{
	struct socket *sock;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG(extack, "a stream descriptor is not a socket");
		return err;
	}
	if (sock->type != SOCK_STREAM || sock->sk->sk_protocol != IPPROTO_TCP) {
		NL_SET_ERR_MSG(extack, "a stream descriptor is not a TCP socket");
		goto fail;
	}
	if (sock->state != SS_CONNECTED) {
		NL_SET_ERR_MSG(extack, "a stream socket is not connected");
		goto fail;
	}
	sock->sk->sk_rcvtimeo = SHM_STREAM_TIMEOUT;
	sock->sk->sk_sndtimeo = SHM_STREAM_TIMEOUT;
	/* Page data moves in big writes: no Nagle delay for the headers. */
	tcp_sock_set_nodelay(sock->sk);
	stream->sock = sock;
	return 0;
fail:
	sockfd_put(sock);
	return -EINVAL;
}

/* Wakes a thread blocked on the socket; the peer sees the stream end. */
void shm_stream_shutdown(struct shm_stream *stream)
{
	if (stream->sock)
		kernel_sock_shutdown(stream->sock, SHUT_RDWR);
}

void shm_stream_release(struct shm_stream *stream)
{
	if (stream->sock)
		sockfd_put(stream->sock);
	stream->sock = NULL;
	shm_lz4_free(&stream->lz4);
}

int shm_stream_send_bytes(struct shm_stream *stream, const void *buf,
			  size_t len, bool more)
{
	struct kvec vec = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = more ? MSG_MORE : 0 };
	int ret;

	ret = kernel_sendmsg(stream->sock, &msg, &vec, 1, len);
	return ret == len ? 0 : ret < 0 ? ret : -EIO;
}

int shm_stream_send_frame(struct shm_stream *stream, u8 type, u8 flags,
			  u16 as_id, u32 round, u32 count, u64 arg, bool more)
{
	struct shm_wire_frame frame = {
		.magic = cpu_to_be16(SHM_WIRE_MAGIC),
		.type = type,
		.flags = flags,
		.as_id = cpu_to_be16(as_id),
		.round = cpu_to_be32(round),
		.count = cpu_to_be32(count),
		.arg = cpu_to_be64(arg),
	};

	return shm_stream_send_bytes(stream, &frame, sizeof(frame), more);
}

static int shm_stream_copy_page(struct shm_stream *stream, struct page *page)
{
	void *addr = kmap_local_page(page);
	int err;

	err = shm_stream_send_bytes(stream, addr, PAGE_SIZE, true);
	kunmap_local(addr);
	return err;
}

int shm_stream_send_pages(struct shm_stream *stream, struct page **pages,
			  unsigned int n)
{
	unsigned int i;
	int ret;

	/*
	 * Zero copy: TCP keeps a reference to each guest page until the data
	 * is acknowledged. A page the guest rewrites meanwhile may leave
	 * torn, harmless: it is dirty again and goes in a later round. Pages
	 * TCP cannot hold that way (sendpage_ok(), as nvme-tcp and DRBD
	 * check) are copied.
	 */
	for (i = 0; i < n; i++)
		if (!sendpage_ok(pages[i]))
			break;
	if (i == n) {
		ret = shm_compat_send_pages(stream->sock, pages, n, MSG_MORE);
		return ret == n * PAGE_SIZE ? 0 : ret < 0 ? ret : -EIO;
	}
	for (i = 0; i < n; i++) {
		ret = shm_stream_copy_page(stream, pages[i]);
		if (ret)
			return ret;
	}
	return 0;
}

int shm_stream_recv_bytes(struct shm_stream *stream, void *buf, size_t len)
{
	struct kvec vec = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_WAITALL };
	int ret;

	ret = kernel_recvmsg(stream->sock, &msg, &vec, 1, len, MSG_WAITALL);
	if (ret == len)
		return 0;
	return ret < 0 ? ret : -ECONNRESET;
}

int shm_stream_recv_frame(struct shm_stream *stream,
			  struct shm_wire_frame *frame)
{
	return shm_stream_recv_bytes(stream, frame, sizeof(*frame));
}

int shm_stream_recv_page(struct shm_stream *stream, struct page *page)
{
	void *addr = kmap_local_page(page);
	int err;

	err = shm_stream_recv_bytes(stream, addr, PAGE_SIZE);
	kunmap_local(addr);
	return err;
}

int shm_stream_recv_user(struct shm_stream *stream, unsigned long uaddr,
			 size_t len)
{
	struct msghdr msg = {};
	int ret;

	iov_iter_ubuf(&msg.msg_iter, ITER_DEST, (void __user *)uaddr, len);
	ret = sock_recvmsg(stream->sock, &msg, MSG_WAITALL);
	if (ret == len)
		return 0;
	return ret < 0 ? ret : -ECONNRESET;
}
