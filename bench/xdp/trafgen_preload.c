/*
 * LD_PRELOAD wrapper for trafgen in bench/xdp.ts. Two things trafgen 0.6.8 cannot do:
 *
 * 1. A large send buffer on its AF_PACKET socket ($IPTB_SNDBUF bytes, SO_SNDBUFFORCE, which
 *    needs CAP_NET_ADMIN rather than a sysctl). net.core.wmem_default is global and
 *    read-only inside a network namespace, and every skb trafgen sent stays charged to its
 *    socket until the receiving veth's NAPI thread (on the other core) has consumed it;
 *    with the default 208 KiB (about the veth ring's 256 packets) a short stall of the
 *    receiver makes sendto() fail with EAGAIN and trafgen stop.
 *
 * 2. A steady rate. `trafgen --rate N` sends N packets as fast as it can, then sleeps out
 *    the rest of the second (a one-second token bucket), so "200,000 pps" arrives as bursts
 *    at the generator's full speed and a 10,000 pps flow has ~0.95 s gaps. With $IPTB_PPS
 *    set, each sendto() on the packet socket waits for its slot on a fixed schedule
 *    (clock_nanosleep when the wait is long, spinning for the last microseconds); a sender
 *    that fell more than 1 ms behind restarts the schedule instead of bursting to catch up.
 *    trafgen still needs --rate (at least as high) so that it uses its per-packet sendto()
 *    path; its own shaper then never finds time left to sleep.
 *
 * Build: cc -shared -fPIC -O2 -o trafgen_preload.so trafgen_preload.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

static int packet_fd = -1;
static long long interval_ns;
static long long next_ns;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((constructor)) static void init(void)
{
	const char *pps = getenv("IPTB_PPS");

	if (pps && atoll(pps) > 0) {
		interval_ns = 1000000000LL / atoll(pps);
		/* Sleeps end within a microsecond of the slot instead of the default 50 us. */
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	}
}

int socket(int domain, int type, int protocol)
{
	static int (*real_socket)(int, int, int);
	int fd;

	if (!real_socket)
		real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	fd = real_socket(domain, type, protocol);
	if (fd >= 0 && domain == AF_PACKET) {
		const char *s = getenv("IPTB_SNDBUF");
		int bytes = s ? atoi(s) : 0;

		if (bytes > 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes));
		packet_fd = fd;
	}
	return fd;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
	       socklen_t alen)
{
	static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *,
				      socklen_t);

	if (!real_sendto)
		real_sendto = (ssize_t (*)(int, const void *, size_t, int, const struct sockaddr *,
					   socklen_t))dlsym(RTLD_NEXT, "sendto");
	if (fd == packet_fd && interval_ns > 0) {
		long long now = now_ns();

		if (next_ns == 0 || now - next_ns > 1000000LL)
			next_ns = now;
		if (next_ns - now > 20000LL) {
			struct timespec ts = {
				.tv_sec = (next_ns - 5000LL) / 1000000000LL,
				.tv_nsec = (next_ns - 5000LL) % 1000000000LL,
			};

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			now = now_ns();
		}
		while (now < next_ns)
			now = now_ns();
		next_ns += interval_ns;
	}
	return real_sendto(fd, buf, len, flags, addr, alen);
}
