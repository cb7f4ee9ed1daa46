"""Malformed input: parse errors keep the connection usable, invalid
requests get -32600, an oversized line gets -32600 and the connection is
closed, connections over --max-clients are refused politely, and a client
that never reads cannot make keeld's memory grow without bound."""
import json
import socket
import time

import kd
from kd import check, eq
from test_methods import client, domains


def reply_to(c, id, timeout=10, what=""):
    """The reply to a request with this id, or a null-id reply (for
    requests whose id keeld may not trust)."""
    k = kd.idkey(id) if id is not None else None

    def find():
        if k is not None and k in c.replies:
            return c.replies.pop(k)
        if c.null_replies:
            return c.null_replies.pop(0)
        return None
    return c._wait(find, timeout, "a reply to %s" % what)


def still_works(c, what):
    try:
        v = c.call("version", timeout=10)
    except kd.ConnectionClosed:
        raise kd.TestFailure("keeld closed the connection after %s" % what)
    eq(v.get("api"), 1, "version after %s" % what)


def test_parse_errors_keep_connection():
    with client() as c:
        for line in (b"{", b"not json", b'{"jsonrpc":"2.0","id":1,"method":"version"',
                     b"{'jsonrpc':'2.0'}", b'{"jsonrpc":"2.0","id":2,}', b"\x00\x01\x02",
                     b'{"jsonrpc":"2.0","id":3,"method":"version"}}',
                     b'{"jsonrpc":"2.0","id":4,"method":"version"} trailing',
                     b'{"a":"\\x"}', b'{"a":"unterminated}', b"[1,2", b"nul", b"-"):
            c.send_raw(line + b"\n")
            rep = c.wait_null(timeout=10, what="a parse error reply to %r" % line)
            check("error" in rep, "reply to %r: %s" % (line, json.dumps(rep)))
            eq(rep["error"].get("code"), kd.EPARSE, "code for %r" % line)
            eq((rep["error"].get("data") or {}).get("name"), "parse error",
               "data.name for %r" % line)
            check(rep["error"].get("message"), "parse error without a message")
            eq(rep.get("jsonrpc"), "2.0", "jsonrpc of a parse error")
            still_works(c, "the line %r" % line)
        # not UTF-8
        c.send_raw(b'{"jsonrpc":"2.0","id":77,"method":"version","params":{"a":"\xff\xfe"}}\n')
        rep = reply_to(c, 77, what="a request that is not UTF-8")
        check("error" in rep and rep["error"].get("code") in (kd.EPARSE, kd.EREQUEST, kd.EPARAMS),
              "a request that is not UTF-8: %s" % json.dumps(rep))
        still_works(c, "a request that is not UTF-8")
        eq(c.garbage, [], "lines from keeld that are not JSON objects")
        eq(c.duplicates, [], "duplicate replies")


def test_invalid_requests():
    with client() as c:
        cases = [
            # (line, id keeld may echo or None)
            (b"[1,2]", None), (b"42", None), (b'"str"', None), (b"null", None),
            (b"true", None), (b"[]", None),
            (b'[{"jsonrpc":"2.0","id":11,"method":"version"}]', None),
            (b'{"id":12,"method":"version"}', 12),
            (b'{"jsonrpc":"1.0","id":13,"method":"version"}', 13),
            (b'{"jsonrpc":2.0,"id":14,"method":"version"}', 14),
            (b'{"jsonrpc":null,"id":15,"method":"version"}', 15),
            (b'{"jsonrpc":"2.0","id":true,"method":"version"}', None),
            (b'{"jsonrpc":"2.0","id":{},"method":"version"}', None),
            (b'{"jsonrpc":"2.0","id":[1],"method":"version"}', None),
            (b'{"jsonrpc":"2.0","id":16}', 16),
            (b'{"jsonrpc":"2.0","id":17,"method":5}', 17),
            (b'{"jsonrpc":"2.0","id":18,"method":null}', 18),
            (b'{"jsonrpc":"2.0","id":19,"method":["version"]}', 19),
            (b'{}', None),
        ]
        for line, id in cases:
            c.send_raw(line + b"\n")
            rep = reply_to(c, id, what=line.decode())
            check("error" in rep, "reply to %s: %s" % (line.decode(), json.dumps(rep)))
            eq(rep["error"].get("code"), kd.EREQUEST, "code for %s" % line.decode())
            eq((rep["error"].get("data") or {}).get("name"), "invalid request",
               "data.name for %s" % line.decode())
            check(rep["error"].get("message"), "no message for %s" % line.decode())
            if id is None:
                eq(rep.get("id", "absent"), None, "id of the reply to %s" % line.decode())
            still_works(c, line.decode())
        # params neither object nor absent
        for i, p in enumerate(('"x"', "5", "true", "null")):
            c.send_raw(('{"jsonrpc":"2.0","id":%d,"method":"version","params":%s}\n'
                        % (100 + i, p)).encode())
            rep = reply_to(c, 100 + i, what="params %s" % p)
            check(rep.get("error", {}).get("code") in (kd.EREQUEST, kd.EPARAMS),
                  "params %s: %s" % (p, json.dumps(rep)))
        still_works(c, "bad params types")
        eq(c.garbage, [], "lines from keeld that are not JSON objects")
        eq(c.duplicates, [], "duplicate replies")


def test_ids_and_framing():
    with client() as c:
        # ids are echoed exactly, with their type
        for id in (0, -1, 7, "7", "", "x y \u00e9 \u2603", 2 ** 53 + 1, 4294967296):
            rep = c.request("version", id=id)
            eq(rep.get("id"), id, "id echoed")
            check("result" in rep, "version with id %r: %s" % (id, json.dumps(rep)))
        # empty and blank lines do no harm
        c.send_raw(b"\n   \n\t\n")
        still_works(c, "empty lines")
        while c.null_replies:
            rep = c.null_replies.pop(0)
            check("error" in rep, "an empty line was answered with %s" % json.dumps(rep))
        # CRLF, two requests in one write, one request in many writes
        c.send_raw(b'{"jsonrpc":"2.0","id":"crlf","method":"version"}\r\n')
        check("result" in c.wait_reply("crlf", 10), "a request ended by CRLF")
        c.send_raw(b'{"jsonrpc":"2.0","id":"a","method":"version"}\n'
                   b'{"jsonrpc":"2.0","id":"b","method":"version"}\n')
        c.wait_reply("a", 10)
        c.wait_reply("b", 10)
        line = b'{"jsonrpc":"2.0","id":"slow","method":"version"}\n'
        for i in range(len(line)):
            c.send_raw(line[i:i + 1])
            if i % 10 == 0:
                time.sleep(0.005)
        check("result" in c.wait_reply("slow", 10), "a request sent byte by byte")
        # escapes in the method name
        c.send_raw(b'{"jsonrpc":"2.0","id":"esc","method":"vers\\u0069on"}\n')
        check("result" in c.wait_reply("esc", 10), "a method name with an escape")
        c.send_raw(b'{"jsonrpc":"2.0","id":"nul","method":"version\\u0000x"}\n')
        rep = reply_to(c, "nul", what="a method name with a NUL")
        check(rep.get("error", {}).get("code") in (kd.EMETHOD, kd.EREQUEST),
              "a method name with a NUL: %s" % json.dumps(rep))
        eq(c.duplicates, [], "duplicate replies")


def test_notifications_are_not_answered():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        c.notify("domain.pause", {"domain": name})
        c.notify("domain.nosuch", {"domain": name})
        c.notify("domain.info", {})
        c.notify("version")
        still_works(c, "notifications")
        time.sleep(0.3)
        kd.wait_state(c, name, "paused", timeout=10)
        eq(c.null_replies, [], "replies to notifications")
        eq([r for r in c.replies.values()], [], "stray replies")
        eq(c.garbage, [], "lines from keeld that are not JSON objects")


def test_deep_nesting():
    with client() as c:
        for depth in (1000, 100000, 1000000):
            c.send_raw(b"[" * depth + b"]" * depth + b"\n")
            rep = c.wait_null(timeout=30, what="a reply to %d nested arrays" % depth)
            check(rep.get("error", {}).get("code") in (kd.EPARSE, kd.EREQUEST),
                  "%d nested arrays: %s" % (depth, json.dumps(rep)[:200]))
            still_works(c, "%d nested arrays" % depth)
        depth = 200000
        line = (b'{"jsonrpc":"2.0","id":"deep","method":"version","params":{"a":'
                + b"[" * depth + b"]" * depth + b"}}\n")
        c.send_raw(line)
        rep = reply_to(c, "deep", 30, "deeply nested params")
        check(rep.get("error", {}).get("code") in (kd.EPARAMS, kd.EPARSE, kd.EREQUEST),
              "deeply nested params: %s" % json.dumps(rep)[:200])
        still_works(c, "deeply nested params")


def test_abrupt_clients():
    with client() as c:
        k = kd.shared()
        for i in range(50):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(k.sock if i % 2 else k.ro_sock)
            if i % 3 == 0:
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"dom')
            elif i % 3 == 1:
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"domain.list"}\n' * 20)
            s.close()
        still_works(c, "50 clients that went away mid-request")


def test_message_limit():
    with kd.Keeld(args=["--max-message", "4096"]) as k:
        c = k.connect()
        # under the limit: answered
        rep = c.request("domain.info", {"domain": "x" * 3000})
        check("error" in rep and rep["error"].get("code") not in (kd.EREQUEST, kd.EPARSE),
              "a 3 KB request under a 4 KiB limit: %s" % json.dumps(rep)[:200])
        # over it: -32600 and closed
        c.send("domain.info", {"domain": "x" * 5000}, id="long")
        rep = reply_to(c, "long", what="a 5 KB line over a 4096-byte limit")
        eq(rep.get("error", {}).get("code"), kd.EREQUEST, "code for a line over the limit")
        check(rep["error"].get("message"), "no message for a line over the limit")
        check(c.wait_eof(10), "keeld did not close a connection after a line over the limit")
        # over it without a newline at all: keeld must not wait for one
        c = k.connect()
        c.send_raw(b'{"jsonrpc":"2.0","id":"nonl","method":"version","params":{"a":"'
                   + b"y" * 8192)
        rep = reply_to(c, "nonl", what="8 KB without a newline over a 4096-byte limit")
        eq(rep.get("error", {}).get("code"), kd.EREQUEST, "code for 8 KB without a newline")
        check(c.wait_eof(10), "keeld did not close a connection after 8 KB without a newline")
        # a lot more, sent without reading
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(k.sock)
        try:
            s.sendall(b"z" * (1 << 20))
        except OSError:
            pass  # closed under us: fine
        s.close()
        c = k.connect()
        still_works(c, "oversized lines on other connections")


def test_max_clients():
    with kd.Keeld(args=["--max-clients", "4"]) as k:
        # the harness's own probe connection may take a moment to be closed
        time.sleep(0.3)
        cs = []
        for i in range(4):
            def one():
                c = kd.Client(k.sock, timeout=10)
                try:
                    c.call("version", timeout=5)
                    return c
                except (kd.ConnectionClosed, kd.TestFailure):
                    c.close()
                    return None
            cs.append(kd.wait_until(one, 10, 0.1, "connection %d of --max-clients 4" % (i + 1)))
            k.clients.append(cs[-1])
        over = []
        for i in range(3):
            c = kd.Client(k.sock, timeout=10)
            k.clients.append(c)
            over.append(c)
        for i, c in enumerate(over):
            check(c.wait_eof(10), "connection %d over --max-clients 4 was not closed" % (5 + i))
            msgs = c.null_replies + list(c.replies.values())
            check(msgs and "error" in msgs[0] and msgs[0]["error"].get("message"),
                  "connection over --max-clients got no error line before it was closed "
                  "(got %s, garbage %s)" % (json.dumps(msgs)[:200], c.garbage))
            eq(msgs[0]["error"].get("code"), kd.ETOOMANY, "code for too many clients")
            eq((msgs[0]["error"].get("data") or {}).get("name"), "too many clients",
               "data.name for too many clients")
            eq(c.garbage, [], "non-JSON lines to a refused connection")
        for c in cs:
            still_works(c, "refusing connections over the limit")
        cs[0].close()

        def new_ok():
            # keeld counts the closed client until it reads its end of
            # file: a connection made before that is refused; try again.
            c = kd.Client(k.sock, timeout=10)
            try:
                return c.call("version", timeout=5)
            except kd.ConnectionClosed:
                return None
            finally:
                c.close()
        kd.wait_until(new_ok, 10, 0.1, "a new connection once one closed")


def test_slow_reader_memory_bounded():
    env = {"ASAN_OPTIONS": ":".join(x for x in (
        __import__("os").environ.get("ASAN_OPTIONS", ""),
        "quarantine_size_mb=16") if x)}
    with kd.Keeld(env=env) as k:
        c = k.connect()
        ids = [c.send("domain.create", {"config_text": kd.xl("s%03d" % i, memory=16)})
               for i in range(100)]
        for i in ids:
            c.result_of(i, "domain.create")
        for _ in range(3):
            ids = [c.send("domain.list") for _ in range(50)]
            for i in ids:
                c.result_of(i, "domain.list")
        reply_size = len(json.dumps(c.call("domain.list")))
        base = k.rss_kb()
        req = b'{"jsonrpc":"2.0","id":1,"method":"domain.list"}\n' * 64
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(k.sock)
        s.setblocking(False)
        sent = 0
        peak = base
        t0 = time.monotonic()
        last_progress = t0
        pending = b""
        while time.monotonic() - t0 < 12 and time.monotonic() - last_progress < 4:
            if not pending:
                pending = req
            try:
                n = s.send(pending)
                pending = pending[n:]
                sent += n
                last_progress = time.monotonic()
            except BlockingIOError:
                time.sleep(0.02)
            except OSError as e:
                raise kd.TestFailure("keeld closed a client that does not read: %s" % e)
            if int((time.monotonic() - t0) * 10) % 5 == 0:
                peak = max(peak, k.rss_kb())
        nreq = sent // (len(req) // 64)
        # others are still served meanwhile
        other = k.connect()
        t1 = time.monotonic()
        still_works(other, "a client that does not read")
        eq(len(other.call("domain.list")), 101, "domain.list while a client does not read")
        dt = time.monotonic() - t1
        time.sleep(1)
        peak = max(peak, k.rss_kb())
        growth_mb = (peak - base) / 1024.0
        check(growth_mb < 160, "keeld's VmRSS grew by %.0f MiB (from %d to %d KiB) while a "
              "client sent %d domain.list requests (%.0f MiB of replies) without reading"
              % (growth_mb, base, peak, nreq, nreq * reply_size / 1048576.0))
        check(dt < 10, "other clients took %.1f s to be served" % dt)
        print("     (%d domain.list requests (%.0f MiB of replies) sent without reading; "
              "VmRSS %d -> %d KiB)" % (nreq, nreq * reply_size / 1048576.0, base, peak))
        # the replies it did queue are whole lines
        s.setblocking(True)
        s.settimeout(10)
        buf = b""
        while buf.count(b"\n") < 20:
            d = s.recv(1 << 16)
            if not d:
                break
            buf += d
        for line in buf.split(b"\n")[:20]:
            rep = json.loads(line)
            check("result" in rep and len(rep["result"]) == 101,
                  "a queued reply to a slow client: %s" % line[:200])
        s.close()
        still_works(other, "the slow client went away")


def test_default_message_limit():
    """The default limit is 4 MiB: a 3 MiB request is answered, a 5 MiB
    line gets -32600 and the connection is closed."""
    with client() as c:
        rep = c.request("domain.info", {"domain": "x" * (3 << 20)})
        check("error" in rep and rep["error"].get("code") not in (kd.EREQUEST, kd.EPARSE),
              "a 3 MiB request under the default limit: %s" % json.dumps(rep)[:200])
        still_works(c, "a 3 MiB request")
        try:  # keeld may refuse it and close before it is all sent
            c.send("domain.info", {"domain": "x" * (5 << 20)}, id="5mib")
        except (BrokenPipeError, ConnectionResetError):
            pass
        rep = reply_to(c, "5mib", what="a 5 MiB line over the default 4 MiB limit")
        eq(rep.get("error", {}).get("code"), kd.EREQUEST, "code for a 5 MiB line")
        check(c.wait_eof(10), "keeld did not close a connection after a 5 MiB line")


def _raw(k):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(k.sock)
    return s


def _lines(s, n):
    buf = b""
    while buf.count(b"\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return [json.loads(x) for x in buf.split(b"\n") if x]


def test_comments_are_not_json():
    # yajl's tree parser takes comments, which hid a deep nesting (and a
    # NUL in the method) from keeld's scan: a 1M-deep array between
    # comments once crashed keeld from the read-only socket.
    with kd.Keeld() as k:
        s = _raw(k)
        deep = "[" * 100 + "]" * 100
        s.sendall(('{"jsonrpc":"2.0","id":1,"method":"version","params":'
                   '{"x": /* " */ %s /* " */ }}\n' % deep).encode())
        s.sendall(b'{"jsonrpc":"2.0","id":2,"method":"version"}\n')
        rep = _lines(s, 2)
        eq(rep[0]["error"]["code"], -32700, "a request with comments")
        check("comment" in rep[0]["error"]["message"], rep[0]["error"]["message"])
        eq(rep[1].get("result", {}).get("api"), 1, "the connection after it")
        s.close()


def test_notifications_in_flight_do_not_freeze():
    # Reading pauses while a connection has many calls in flight; calls
    # that answer nothing (notifications) once never resumed it.
    with kd.Keeld() as k:
        s = _raw(k)
        note = b'{"jsonrpc":"2.0","method":"domain.pause","params":{"domain":"nosuch"}}\n'
        s.sendall(note * 300)
        s.sendall(b'{"jsonrpc":"2.0","id":7,"method":"version"}\n')
        rep = _lines(s, 1)
        eq(rep and rep[0].get("id"), 7, "the request after 300 notifications")
        s.close()


def test_half_close_still_answered():
    # A client that shuts its writing side (nc -N, socat) still gets its
    # replies; keeld closes once they are written.
    with kd.Keeld() as k:
        s = _raw(k)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"domain.create","params":'
                  b'{"config_text":"name=\\"hc\\"\\nmemory=16\\n"}}\n')
        s.shutdown(socket.SHUT_WR)
        rep = _lines(s, 1)
        eq(rep and rep[0].get("id"), 1, "the reply after a half-close")
        check("result" in rep[0], json.dumps(rep[0]))
        check(s.recv(1) == b"", "keeld closes after the reply")
        s.close()


def test_sigterm_answers_calls_in_flight():
    # SIGTERM lets the calls in flight finish: their replies reach the
    # client before keeld closes (they were once dropped with the
    # connection).
    import signal
    with kd.Keeld() as k:
        c = k.connect()
        c.call("domain.create", {"config_text": kd.xl("st")})
        c.call("sim.guest_set", {"domain": "st", "ignore_shutdown": True})
        s = _raw(k)
        s.sendall(b'{"jsonrpc":"2.0","id":9,"method":"domain.shutdown","params":'
                  b'{"domain":"st","wait":true,"timeout_ms":1500}}\n')
        time.sleep(0.3)
        k.proc.send_signal(signal.SIGTERM)
        rep = _lines(s, 1)
        eq(rep and rep[0].get("id"), 9, "the reply of a call in flight at SIGTERM")
        s.close()
        c.close()
