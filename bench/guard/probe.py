#!/usr/bin/env python3
"""TCP probe and listener for bench/guard.ts (stdlib only; run inside a namespace).

listen:  probe.py listen ADDR PORT MAX_SECS
    Accepts and closes connections until MAX_SECS pass (or it is killed). Prints "listening".
probe:   probe.py probe SRC DST PORT INTERVAL_MS TIMEOUT_MS MAX_SECS
    Starts a non-blocking connect from SRC every INTERVAL_MS. Prints "ready" after the first
    one that connects (within 3 s, else {"error": ...} and exit 1). From then on each attempt
    is kept with its start time (CLOCK_REALTIME, ns) and outcome: ok, timeout (no answer in
    TIMEOUT_MS: the SYN was dropped) or the errno name (a reject). It stops once 5 attempts
    in a row after the first one failing have failed, or after MAX_SECS, waits for the
    attempts in flight, and prints one JSON line: firstBlockedNs (start of the first attempt
    of the final run of failures; null when none), how, attempts, okAfter (attempts that
    still connected after the first failure; should be 0).
"""
import errno
import json
import selectors
import socket
import struct
import sys
import time

LINGER0 = struct.pack("ii", 1, 0)


def listen(addr, port, max_secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4096)
    s.settimeout(0.5)
    print("listening", flush=True)
    end = time.monotonic() + max_secs
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        except OSError:
            continue
        c.close()


def probe(src, dst, port, interval_ms, timeout_ms, max_secs):
    sel = selectors.DefaultSelector()
    results = []  # (start_ns, outcome)
    inflight = {}  # fd -> (sock, start_ns, start_mono)
    ready = False
    ready_deadline = time.monotonic() + 3.0
    end = None
    next_at = time.monotonic()
    stop_launching = False

    def finish(fd, outcome):
        sock, start_ns, _ = inflight.pop(fd)
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()
        return start_ns, outcome

    def launch():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        s.bind((src, 0))
        start_ns = time.time_ns()
        err = s.connect_ex((dst, port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return (start_ns, errno.errorcode.get(err, str(err)))
        inflight[s.fileno()] = (s, start_ns, time.monotonic())
        sel.register(s, selectors.EVENT_WRITE)
        return None

    def run_tail():
        """Length of the trailing run of failures and its first start, by start time."""
        rs = sorted(results)
        n = 0
        first = None
        for start_ns, outcome in reversed(rs):
            if outcome == "ok":
                break
            n += 1
            first = (start_ns, outcome)
        return n, first

    while True:
        now = time.monotonic()
        if not stop_launching and now >= next_at:
            r = launch()
            next_at += interval_ms / 1000.0
            if next_at < now:
                next_at = now + interval_ms / 1000.0
            if r is not None and ready:
                results.append(r)
        timeout = max(0.0, min(next_at - time.monotonic(), 0.001)) if not stop_launching else 0.005
        for key, _ in sel.select(timeout):
            fd = key.fileobj.fileno()
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            # A reset after the handshake (the listener closed first) still means answered.
            answered = err in (0, errno.ECONNRESET, errno.EPIPE)
            start_ns, outcome = finish(fd, "ok" if answered else errno.errorcode.get(err, str(err)))
            if not ready:
                if outcome == "ok":
                    ready = True
                    end = time.monotonic() + max_secs
                    print("ready", flush=True)
                continue
            results.append((start_ns, outcome))
        now = time.monotonic()
        for fd, (_, _, m) in list(inflight.items()):
            if now - m >= timeout_ms / 1000.0:
                start_ns, outcome = finish(fd, "timeout")
                if ready:
                    results.append((start_ns, outcome))
        if not ready:
            if now > ready_deadline:
                print(json.dumps({"error": "no connect succeeded within 3 s"}), flush=True)
                return 1
            continue
        if not stop_launching:
            n, _ = run_tail()
            if n >= 5 or now >= end:
                stop_launching = True
        if stop_launching and not inflight:
            break
    n, first = run_tail()
    rs = sorted(results)
    out = {"attempts": len(rs), "firstBlockedNs": None, "how": None, "okAfter": 0}
    if n >= 5 and first is not None:
        out["firstBlockedNs"] = first[0]
        out["how"] = first[1]
        first_fail = next(s for s, o in rs if o != "ok")
        out["okAfter"] = sum(1 for s, o in rs if s > first_fail and o == "ok")
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "listen":
        listen(a[1], int(a[2]), float(a[3]))
    elif a and a[0] == "probe":
        sys.exit(probe(a[1], a[2], int(a[3]), float(a[4]), float(a[5]), float(a[6])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
