"""kd.py: the harness of keeld's integration tests (Python 3 standard
library only).

Keeld starts `keeld --foreground --backend sim` on a fresh temporary
directory (state, run and sim directories inside it, a small simulated
host), waits for its sockets and tears it all down after; Client is a
minimal JSON-RPC 2.0 client for keeld's line protocol (docs/keeld-api.md)
that can pipeline requests, matches replies to ids and collects
notifications. Everything that waits has a timeout: no request waits more
than REQUEST_TIMEOUT seconds.

keeld is found as $KEELD, else $top_builddir/daemon/keeld (top_builddir
defaults to the current directory); when it is not there the tests are
skipped.
"""

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REQUEST_TIMEOUT = 30.0  # seconds, for any one request
START_TIMEOUT = 30.0  # seconds for keeld to open its sockets
STOP_TIMEOUT = 30.0  # seconds for keeld to exit after a signal
SIM_HOST = "cpus=8,memory=16G"

# JSON-RPC and keeld's own codes (docs/keeld-api.md)
EPARSE = -32700
EREQUEST = -32600
EMETHOD = -32601
EPARAMS = -32602
EINTERNAL = -32603
EREADONLY = -32001
EBACKEND = -32002
ESHUTDOWN = -32003
# libkeel's
EPERM = -1
ENOENT = -2
EEXIST = -17
EINVAL = -22
ENODOMAIN = -4000
ENOPOOL = -4001
ESTATE = -4002

ETOOMANY = -32004

# data.name of keeld's own errors (docs/keeld-api.md)
RPC_NAMES = {EPARSE: "parse error", EREQUEST: "invalid request",
             EMETHOD: "method not found", EPARAMS: "invalid params",
             EINTERNAL: "internal error", EREADONLY: "read-only socket",
             EBACKEND: "not on this backend", ESHUTDOWN: "shutting down",
             ETOOMANY: "too many clients"}

INFO_KEYS = {"domid", "uuid", "name", "type", "state", "flags", "memory_kb",
             "target_kb", "max_kb", "vcpus", "max_vcpus", "cpu_time_s", "pool",
             "start_time", "uptime_s", "defined", "autostart"}

SANITIZER_RE = re.compile(
    r"ERROR: (Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer"
    r"|runtime error:|AddressSanitizer|SUMMARY: \w+Sanitizer")


class Skip(Exception):
    """Raised by a test (or the harness) to skip it."""


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(got, want, what):
    if got != want:
        raise TestFailure("%s: expected %r, got %r" % (what, want, got))


def wait_until(pred, timeout=REQUEST_TIMEOUT, interval=0.05, what="condition"):
    """Polls pred() until it returns something true; returns that value.
    Fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (RpcError, OSError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.0f s waiting for %s%s" % (
                timeout, what, " (last error: %s)" % last_exc if last_exc else ""))
        time.sleep(interval)


def find_keeld():
    path = os.environ.get("KEELD")
    if not path:
        path = os.path.join(os.environ.get("top_builddir", "."), "daemon", "keeld")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Skip("no keeld at %s (set KEELD or top_builddir)" % path)
    return os.path.abspath(path)


def xl(name, memory=16, vcpus=1, maxvcpus=None, type="pvh", **extra):
    """xl.cfg text for a small guest; extra keys are written as name='v'
    (strings) or name=v (numbers)."""
    lines = ["name='%s'" % name, "type='%s'" % type, "vcpus=%d" % vcpus,
             "memory=%d" % memory]
    if maxvcpus is not None:
        lines.append("maxvcpus=%d" % maxvcpus)
    for k, v in extra.items():
        lines.append("%s=%s" % (k, json.dumps(v) if isinstance(v, str) else v))
    return "\n".join(lines) + "\n"


# --- the client --------------------------------------------------------------

class RpcError(Exception):
    """An error reply: code, message, data (and the request that got it)."""

    def __init__(self, method, params, error):
        self.method = method
        self.params = params
        self.error = error if isinstance(error, dict) else {"raw": error}
        self.code = self.error.get("code")
        self.message = self.error.get("message")
        self.data = self.error.get("data")
        self.name = self.data.get("name") if isinstance(self.data, dict) else None
        super().__init__("%s %s -> error %s %s: %s" % (
            method, json.dumps(params), self.code, self.name, self.message))


class ConnectionClosed(Exception):
    pass


def idkey(v):
    """The key of an id in the reply table: its JSON text, so that 7 and
    "7" (and 1 and true) stay apart."""
    return json.dumps(v, sort_keys=True)


class Client:
    """One connection to keeld. A thread reads lines: replies go to a table
    by id, notifications (no id, a method) to a list, replies with a null
    id to another list, lines that are not JSON objects to `garbage`."""

    def __init__(self, path, timeout=REQUEST_TIMEOUT, connect=True):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.cond = threading.Condition()
        self.replies = {}
        self.seen = {}  # id key -> number of replies ever
        self.duplicates = []  # replies to an id already answered
        self.null_replies = []
        self.arrivals = []  # id keys of replies, in the order they came
        self.notifications = []
        self.garbage = []
        self.eof = False
        self.read_error = None
        self.closed = False
        # ids this client picks itself; tests that write ids by hand use
        # small numbers and strings, so the two never meet
        self.next_id = 1000001
        self.send_lock = threading.Lock()
        self.reader = None
        if connect:
            self.sock.connect(path)
            self.start_reader()

    def start_reader(self):
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _read_loop(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                if self.closed:
                    break
                continue
            except OSError as e:
                with self.cond:
                    if not self.closed:
                        self.read_error = e
                break
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self._line(line)
        with self.cond:
            if buf:
                self.garbage.append(buf)
            self.eof = True
            self.cond.notify_all()

    def _line(self, line):
        try:
            msg = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            msg = None
        with self.cond:
            if not isinstance(msg, dict):
                self.garbage.append(line)
            elif "id" in msg and msg["id"] is not None:
                k = idkey(msg["id"])
                self.arrivals.append(k)
                self.seen[k] = self.seen.get(k, 0) + 1
                if self.seen[k] > 1:
                    self.duplicates.append(msg)
                else:
                    self.replies[k] = msg
            elif "id" in msg:
                self.null_replies.append(msg)
            elif "method" in msg:
                self.notifications.append(msg)
            else:
                self.garbage.append(line)
            self.cond.notify_all()

    # --- sending

    def new_id(self):
        with self.cond:
            i = self.next_id
            self.next_id += 1
        return i

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self.send_lock:
            self.sock.sendall(data)

    def send_obj(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def send(self, method, params=None, id=None):
        """Sends a request without waiting; returns its id."""
        if id is None:
            id = self.new_id()
        req = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            req["params"] = params
        self.send_obj(req)
        return id

    def notify(self, method, params=None):
        """Sends a request without an id (not answered)."""
        req = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            req["params"] = params
        self.send_obj(req)

    # --- receiving

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self.cond:
            while True:
                v = pred()
                if v is not None:
                    return v
                if self.eof:
                    raise ConnectionClosed("keeld closed the connection while "
                                           "waiting for %s" % what)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TestFailure("no %s within %.0f s" % (
                        what, self.timeout if timeout is None else timeout))
                self.cond.wait(left)

    def wait_reply(self, id, timeout=None, what=None):
        """The reply to id (the whole message)."""
        k = idkey(id)
        return self._wait(lambda: self.replies.pop(k, None), timeout,
                          what or "reply to id %s" % k)

    def has_reply(self, id):
        with self.cond:
            return idkey(id) in self.replies

    def result_of(self, id, method="?", params=None, timeout=None):
        rep = self.wait_reply(id, timeout, "reply to %s (id %s)" % (method, id))
        return reply_result(rep, method, params)

    def request(self, method, params=None, timeout=None, id=None):
        """Sends a request and returns the whole reply."""
        id = self.send(method, params, id)
        return self.wait_reply(id, timeout, "reply to %s %s (id %r)" % (
            method, json.dumps(params), id))

    def call(self, method, params=None, timeout=None):
        """Sends a request and returns its result; raises RpcError."""
        rep = self.request(method, params, timeout)
        return reply_result(rep, method, params)

    def error(self, method, params=None, timeout=None):
        """Sends a request that must fail; returns the RpcError."""
        rep = self.request(method, params, timeout)
        if "error" not in rep:
            raise TestFailure("%s %s: expected an error, got result %s" % (
                method, json.dumps(params), json.dumps(rep.get("result"))[:300]))
        return RpcError(method, params, rep["error"])

    def wait_null(self, timeout=None, what="a reply with a null id"):
        return self._wait(lambda: self.null_replies.pop(0)
                          if self.null_replies else None, timeout, what)

    def wait_notification(self, pred=lambda n: True, timeout=None,
                          what="a notification"):
        """Removes and returns the first notification for which pred(msg)
        is true."""
        def find():
            for i, n in enumerate(self.notifications):
                if pred(n):
                    return self.notifications.pop(i)
            return None
        return self._wait(find, timeout, what)

    def wait_event(self, type=None, timeout=None, **fields):
        """The first `event` notification of this type whose params have
        these field values."""
        def pred(n):
            if n.get("method") != "event":
                return False
            p = n.get("params") or {}
            if type is not None and p.get("type") != type:
                return False
            return all(p.get(k) == v for k, v in fields.items())
        n = self.wait_notification(pred, timeout, "event %s %s (have: %s)" % (
            type, fields, self.events_summary()))
        return n["params"]

    def events(self, **fields):
        """The `event` params received so far (not removed) matching fields."""
        with self.cond:
            return [n["params"] for n in self.notifications
                    if n.get("method") == "event" and isinstance(n.get("params"), dict)
                    and all(n["params"].get(k) == v for k, v in fields.items())]

    def events_summary(self):
        with self.cond:
            return ", ".join("%s:%s" % ((n.get("params") or {}).get("type"),
                                        (n.get("params") or {}).get("name"))
                             for n in self.notifications if n.get("method") == "event")

    def wait_eof(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self.cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self):
        with self.cond:
            self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.reader is not None and self.reader is not threading.current_thread():
            self.reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def reply_result(rep, method, params):
    if "error" in rep:
        raise RpcError(method, params, rep["error"])
    if "result" not in rep:
        raise TestFailure("%s: reply has neither result nor error: %s" % (
            method, json.dumps(rep)[:300]))
    if rep.get("jsonrpc") != "2.0":
        raise TestFailure("%s: reply's jsonrpc is %r" % (method, rep.get("jsonrpc")))
    return rep["result"]


def expect_error(fn, code, what, names=None):
    """Runs fn(); it must raise RpcError with this code (an int or a
    tuple of allowed codes) and, if names is given, a message naming each
    of them. Returns the error."""
    try:
        r = fn()
    except RpcError as e:
        codes = code if isinstance(code, tuple) else (code,)
        if e.code not in codes:
            raise TestFailure("%s: expected error %s, got %s %s: %s" % (
                what, code, e.code, e.name, e.message))
        check(isinstance(e.message, str) and e.message,
              "%s: error %s without a message" % (what, e.code))
        for n in names or ():
            check(n in e.message, "%s: error message %r does not name %r" % (
                what, e.message, n))
        if e.code in RPC_NAMES:
            check(e.name == RPC_NAMES[e.code], "%s: data.name of error %d is %r, not %r"
                  % (what, e.code, e.name, RPC_NAMES[e.code]))
        elif e.code is not None and e.code < 0:
            check(isinstance(e.name, str) and e.name.startswith("KEEL_"),
                  "%s: data.name of libkeel error %d is %r" % (what, e.code, e.name))
        return e
    raise TestFailure("%s: expected error %s, got result %s" % (
        what, code, json.dumps(r)[:300]))


# --- the daemon --------------------------------------------------------------

# Sanitizer output found in the logs of keelds that were closed; the runner
# fails the test that closed them.
sanitizer_findings = []

class Keeld:
    """One keeld on its own directory. Usable as a context manager; close()
    kills it and removes the directory (unless it was given one)."""

    def __init__(self, dir=None, sim_host=SIM_HOST, args=(), env=None,
                 start=True):
        self.binary = find_keeld()
        self.own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="keeld-test-")
        self.state_dir = os.path.join(self.dir, "state")
        self.run_dir = os.path.join(self.dir, "run")
        self.sim_dir = os.path.join(self.dir, "sim")
        self.log_path = os.path.join(self.dir, "keeld.log")
        self.sim_host = sim_host
        self.args = list(args)
        self.env = env
        self.proc = None
        self.clients = []
        self.log_checked = 0  # log offset up to which sanitizer output was checked
        self.exits = []  # (argv, rc) of processes that ended
        if start:
            try:
                self.start()
            except BaseException:
                self.close()
                raise

    @property
    def sock(self):
        return os.path.join(self.run_dir, "keeld.sock")

    @property
    def ro_sock(self):
        return os.path.join(self.run_dir, "keeld-ro.sock")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self, extra=()):
        a = [self.binary, "--backend", "sim", "--state-dir", self.state_dir,
             "--run-dir", self.run_dir, "--sim-dir", self.sim_dir,
             "--foreground"]
        if self.sim_host:
            a += ["--sim-host", self.sim_host]
        level = os.environ.get("KEELD_TEST_LOG_LEVEL")
        if level:
            a += ["--log-level", level]
        return a + self.args + list(extra)

    def spawn(self, extra=(), log=None):
        """Starts a keeld process on these dirs without waiting (for the
        pidfile test): returns the Popen, its output going to log."""
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        out = open(log or self.log_path, "ab")
        try:
            return subprocess.Popen(self.argv(extra), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    env=env, cwd=self.dir)
        finally:
            out.close()

    def start(self, extra=()):
        if self.alive():
            raise TestFailure("keeld is already running (pid %d)" % self.pid)
        for d in (self.state_dir, self.run_dir):
            os.makedirs(d, exist_ok=True)
        with open(self.log_path, "ab") as f:
            f.write(("\n=== harness: starting %s\n" % " ".join(self.argv(extra))).encode())
        self.proc = self.spawn(extra)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.exits.append(rc)
                raise TestFailure("keeld exited with %s while starting:\n%s" % (
                    rc, self.log_tail()))
            if os.path.exists(self.sock) and os.path.exists(self.ro_sock):
                try:
                    with Client(self.sock, timeout=5) as c:
                        c.call("version", timeout=10)
                    return
                except (OSError, TestFailure, ConnectionClosed, RpcError):
                    pass
            if time.monotonic() >= deadline:
                raise TestFailure("keeld did not answer on %s within %.0f s:\n%s"
                                  % (self.sock, timeout, self.log_tail()))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def connect(self, ro=False, timeout=REQUEST_TIMEOUT):
        c = Client(self.ro_sock if ro else self.sock, timeout=timeout)
        self.clients.append(c)
        return c

    def close_clients(self):
        for c in self.clients:
            c.close()
        self.clients = []

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGKILL, timeout=STOP_TIMEOUT):
        """Sends sig and waits for keeld to exit; returns its exit status
        (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise TestFailure("keeld did not exit within %.0f s of signal %d"
                                  % (timeout, sig))
        rc = self.proc.returncode
        self.exits.append(rc)
        self.close_clients()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def term(self, timeout=STOP_TIMEOUT):
        return self.stop(signal.SIGTERM, timeout)

    def restart(self, sig=signal.SIGKILL, extra=()):
        self.stop(sig)
        return self.start(extra)

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise TestFailure("no VmRSS for pid %d" % self.pid)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join("    | " + l for l in self.log_text().splitlines()[-n:])

    def sanitizer_report(self):
        """Sanitizer output in the log since the last call, or ''."""
        text = self.log_text()
        new = text[self.log_checked:]
        self.log_checked = len(text)
        lines = new.splitlines()
        for i, l in enumerate(lines):
            if SANITIZER_RE.search(l):
                out = []
                for x in lines[max(0, i - 3):]:
                    # a deep recursion repeats one frame hundreds of times
                    frame = re.sub(r"^\s*#\d+ 0x[0-9a-f]+ ", "", x)
                    if out and out[-1][1] == frame and frame != x:
                        continue
                    out.append((x, frame))
                    if len(out) >= 30:
                        break
                summary = [x for x in lines[i:] if x.startswith("SUMMARY:")]
                return "\n".join("    | " + x for x, _ in out) + (
                    "\n    | ...\n    | " + summary[0] if summary and
                    summary[0] not in [x for x, _ in out] else "")
        return ""

    def close(self):
        try:
            if self.alive():
                self.proc.kill()
                self.proc.wait(10)
        except Exception:
            pass
        rep = self.sanitizer_report()
        if rep:
            sanitizer_findings.append("(keeld in %s)\n%s" % (self.dir, rep))
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        self.clients = []
        if self.own_dir and not os.environ.get("KEELD_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- a keeld shared by the tests that need nothing special ------------------------

_shared = None


def shared():
    """A keeld shared by tests that need no special options (started on
    first use; the runner restarts it if a test killed it). Tests that use
    it name their domains uniquely (see unique()) and clean up after
    themselves."""
    global _shared
    if _shared is None or not _shared.alive():
        if _shared is not None:
            _shared.close()
        _shared = Keeld()
    return _shared


def shared_running():
    return _shared


def shutdown_shared():
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


_unique_lock = threading.Lock()
_unique_n = [0]


def unique(prefix="d"):
    with _unique_lock:
        _unique_n[0] += 1
        return "%s-%d-%d" % (prefix, os.getpid() % 10000, _unique_n[0])


def create(c, name, paused=False, **cfg):
    """Creates a domain from xl text on client c; returns the result."""
    params = {"config_text": xl(name, **cfg), "format": "xl"}
    if paused:
        params["paused"] = True
    return c.call("domain.create", params)


def domain_names(c):
    return [d["name"] for d in c.call("domain.list")]


def info_or_none(c, dom):
    try:
        return c.call("domain.info", {"domain": dom})
    except RpcError as e:
        if e.code == ENODOMAIN:
            return None
        raise


def wait_gone(c, dom, timeout=REQUEST_TIMEOUT):
    wait_until(lambda: info_or_none(c, dom) is None, timeout,
               what="domain %s to go away" % dom)


def wait_state(c, dom, state, timeout=REQUEST_TIMEOUT):
    def ok():
        i = info_or_none(c, dom)
        return i if i is not None and i["state"] == state else None
    return wait_until(ok, timeout, what="domain %s to be %s" % (dom, state))


def wait_job(c, job, timeout=120):
    """Polls job.info until the job is no longer running; returns the info."""
    def done():
        j = c.call("job.info", {"job": job})
        return j if j.get("state") != "running" else None
    return wait_until(done, timeout, interval=0.1, what="job %s to end" % job)


def env_int(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise TestFailure("%s=%r is not a number" % (name, v))


def primary_group():
    import grp
    return grp.getgrgid(os.getgid()).gr_name


def is_errno(e, *codes):
    return isinstance(e, OSError) and e.errno in codes


_ = errno  # (re-exported for tests)
