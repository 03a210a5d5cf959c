"""Workloads for bench/sensors.ts: an exec storm, a paced exec run, a file-write storm.

Python rather than a shell loop so that the workload itself costs the same in every run and
prints its own timings (CLOCK_REALTIME ns, comparable with the reader's clock).

  storm.py exec N            N runs of /bin/true, one after another; prints wall seconds
  storm.py paced RATE SECS   /bin/true at RATE per second for SECS; prints "pid ns" lines
  storm.py files DIR N       N x (create, write 64 bytes, close, unlink) in DIR; prints wall s
"""
import os
import sys
import time

TRUE = "/bin/true"


def exec_storm(n):
    t0 = time.monotonic()
    for _ in range(n):
        pid = os.posix_spawn(TRUE, [TRUE], {})
        os.waitpid(pid, 0)
    print(f"{time.monotonic() - t0:.6f}")


def paced(rate, secs):
    total = int(rate * secs)
    interval = 1.0 / rate
    start = time.monotonic()
    out = []
    running = 0
    for i in range(total):
        due = start + i * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        ns = time.time_ns()
        pid = os.posix_spawn(TRUE, [TRUE], {})
        out.append(f"{pid} {ns}")
        running += 1
        while running:
            done, _ = os.waitpid(-1, os.WNOHANG)
            if done == 0:
                break
            running -= 1
    while running:
        os.waitpid(-1, 0)
        running -= 1
    elapsed = time.monotonic() - start
    print(f"# achieved {total / elapsed:.0f}/s over {elapsed:.3f} s")
    print("\n".join(out))


def files(d, n):
    data = b"x" * 64
    t0 = time.monotonic()
    for i in range(n):
        p = os.path.join(d, f"f{i}")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        os.close(fd)
        os.unlink(p)
    print(f"{time.monotonic() - t0:.6f}")


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "exec":
        exec_storm(int(sys.argv[2]))
    elif kind == "paced":
        paced(float(sys.argv[2]), float(sys.argv[3]))
    elif kind == "files":
        files(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown workload {kind}")
