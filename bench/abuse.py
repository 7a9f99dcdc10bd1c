#!/usr/bin/env python3
"""Abuse cases against the release pod binary over loopback, bounded loops
only. Each prints what it did, what it measured, and whether the guarantee
held; the exit status is 1 if one did not.

    cargo build --release -p funkwhale-pod
    bench/abuse.py [target/release/funkwhale-pod]

1. Flood: cookie-less requests to the login and personal-token pages
   (rate limits off, so that every one reaches the handler) store no
   session, and a new visitor then logs in.
2. Huge usernames: failed logins with 60 KB usernames keep 32-byte keys
   only, and the address is refused after 30 failures.
3. Lockout: a stranger's wrong guesses (from 127.0.0.3) and attempts
   abandoned right after sending (from 127.0.0.1, the owner's address) do
   not keep the owner from logging in.
4. Registrations: 32 KB registrations from one address are refused after
   Funkwhale's oauth-app rate (10/hour); another address still registers.
5. argon2 queue: two addresses keep 30 connections each sending wrong
   logins (hanging up after 0.3 s) for 20 s, rate limits off; the owner,
   logging in meanwhile from 127.0.0.1, is never refused.

Standard library only; needs Linux (127.0.0.0/8 on loopback, /proc).
"""
import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/funkwhale-pod"
REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
failures = []
# The consent POST that signs in: the out-of-band redirect URI shows the code
# on a page (200); any other redirects to it (303).
SIGNED_IN = (200, 303)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Pod:
    def __init__(self, work, throttling):
        self.port = free_port()
        self.db = os.path.join(work, f"pod-{self.port}.db")
        args = [BIN, "serve", "--database", f"sqlite://{self.db}", "--demo",
                "--listen", f"127.0.0.1:{self.port}",
                "--throttling-enabled", "true" if throttling else "false"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "RUST_LOG": "warn"})
        for _ in range(300):
            try:
                self.request("GET", "/api/v1/instance/settings/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the pod did not start")

    def request(self, method, path, body=None, headers=None, source="127.0.0.1", timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0))
        data = urllib.parse.urlencode(body).encode() if isinstance(body, dict) else body
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), payload

    def register(self, source="127.0.0.1", extra=""):
        return self.request("POST", "/api/v1/apps", {
            "client_name": "abuse", "redirect_uris": REDIRECT + extra, "scopes": "read"},
            source=source)

    def authorize_path(self, client_id):
        return "/oauth/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "scope": "read"})

    def consent_form(self, client_id, user, password, source):
        status, headers, html = self.request("GET", self.authorize_path(client_id), source=source)
        cookie = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "").split(";")[0]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"',
                                 html.decode()))
        fields.update({"username": user, "password": password, "decision": "approve"})
        return fields, cookie

    def login(self, client_id, user, password, source="127.0.0.1"):
        fields, cookie = self.consent_form(client_id, user, password, source)
        return self.request("POST", "/oauth/authorize", fields, {"Cookie": cookie},
                            source=source)[0]

    def abandon_login(self, client_id, user, password, source="127.0.0.1"):
        """Sends the whole login POST and closes the connection at once,
        before the password can have been checked."""
        fields, cookie = self.consent_form(client_id, user, password, source)
        body = urllib.parse.urlencode(fields).encode()
        head = (f"POST /oauth/authorize HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.port), source_address=(source, 0)) as s:
            s.sendall(head + body)

    def count(self, table):
        with sqlite3.connect(self.db) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def check(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        failures.append(name)


def flood(pod, paths, total, threads=4):
    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", pod.port, timeout=30)
        for i in range(n):
            conn.request("GET", paths[i % len(paths)])
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                statuses.append(r.status)
        conn.close()
    statuses = []
    ts = [threading.Thread(target=worker, args=(total // threads,)) for _ in range(threads)]
    start = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return statuses, time.time() - start


def queue(pod, client_id, seconds=20, addresses=2, connections=30, hold=0.3):
    forms = {}
    for a in range(addresses):
        source = f"127.0.9.{a + 1}"
        requests = []
        for u in range(6):
            fields, cookie = pod.consent_form(client_id, f"victim{u}", "wrong", source)
            body = urllib.parse.urlencode(fields).encode()
            requests.append((f"POST /oauth/authorize HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        forms[source] = requests
    stop = threading.Event()
    seen = {}
    lock = threading.Lock()

    def attacker(source, j):
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", pod.port), source_address=(source, 0)) as s:
                s.sendall(forms[source][j % len(forms[source])])
                s.settimeout(hold)
                try:
                    got = s.recv(12)[9:12].decode() or "eof"
                except socket.timeout:
                    got = "abandoned"
            with lock:
                seen[got] = seen.get(got, 0) + 1

    threads = [threading.Thread(target=attacker, args=(src, j))
               for src in forms for j in range(connections)]
    for t in threads:
        t.start()
    owner, slowest, end = [], 0.0, time.time() + seconds
    while time.time() < end:
        start = time.time()
        owner.append(pod.login(client_id, "demo", "demo-password", source="127.0.0.1"))
        slowest = max(slowest, time.time() - start)
    stop.set()
    for t in threads:
        t.join()
    check("argon2 queue", owner and all(s in SIGNED_IN for s in owner),
          f"{addresses} addresses x {connections} connections of wrong logins for {seconds} s: "
          f"{dict(sorted(seen.items()))}; the owner's {len(owner)} logins meanwhile: "
          f"{sorted(set(owner))}, slowest {slowest:.2f} s")


def main():
    work = tempfile.mkdtemp()
    # 1 and 2 and 3 with rate limits off: only the login limits apply.
    pod = Pod(work, throttling=False)
    try:
        app = json.loads(pod.register()[2])
        before = rss_kib(pod.proc.pid)
        total = 100_000
        bad, secs = flood(pod, [pod.authorize_path(app["client_id"]),
                                "/settings/applications/new"], total)
        after = rss_kib(pod.proc.pid)
        status = pod.login(app["client_id"], "demo", "demo-password", source="127.0.0.2")
        check("flood", not bad and pod.count("sessions") == 1 and status in SIGNED_IN,
              f"{total} cookie-less page views in {secs:.1f} s, {len(bad)} not 200; "
              f"sessions stored: {pod.count('sessions')} (the one login after); "
              f"RSS {before} -> {after} KiB; a new visitor's login: {status}")

        before = rss_kib(pod.proc.pid)
        statuses = [pod.login(app["client_id"], f"{i}" + "x" * 60_000, "guess",
                              source="127.0.0.4") for i in range(300)]
        after = rss_kib(pod.proc.pid)
        with sqlite3.connect(pod.db) as db:
            rows, longest = db.execute(
                "SELECT count(*), max(length(key)) FROM login_failures").fetchone()
        check("huge usernames",
              statuses[:30] == [401] * 30 and set(statuses[30:]) == {429} and longest == 32,
              f"300 failed logins with 60 KB usernames: {statuses.count(401)}x401 then "
              f"{statuses.count(429)}x429; {rows} rows of at most {longest} bytes; "
              f"RSS {before} -> {after} KiB")

        statuses = [pod.login(app["client_id"], "demo", "wrong", source="127.0.0.3")
                    for _ in range(6)]
        abandoned = 6
        for _ in range(abandoned):
            pod.abandon_login(app["client_id"], "demo", "wrong", source="127.0.0.1")
        time.sleep(1)
        owner = pod.login(app["client_id"], "demo", "demo-password", source="127.0.0.1")
        check("lockout", owner in SIGNED_IN,
              f"stranger's guesses {statuses}, {abandoned} abandoned attempts from the "
              f"owner's address; the owner's login: {owner}")

        queue(pod, app["client_id"])
    finally:
        pod.stop()

    # 4 with the pod's default rate limits.
    pod = Pod(work, throttling=True)
    try:
        before = rss_kib(pod.proc.pid)
        # 32 KB each: 16 redirect URIs of 2000 characters, the most allowed.
        big = "".join(f" https://x.example/{n:02}/" + "a" * 1978 for n in range(15))
        statuses = [pod.register(extra=big)[0] for _ in range(500)]
        after = rss_kib(pod.proc.pid)
        other = pod.register(source="127.0.0.2")[0]
        check("registrations", statuses.count(200) == 10 and other == 200,
              f"500 registrations from one address: {statuses.count(200)} stored, "
              f"{statuses.count(429)}x429; apps in the store: {pod.count('clients')}; "
              f"another address: {other}; RSS {before} -> {after} KiB")
    finally:
        pod.stop()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
