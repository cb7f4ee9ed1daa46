"""keel.client: a client of keeld's JSON-RPC API (docs/keeld-api.md).

One Client is one connection to keeld's UNIX socket. A reader thread reads
keeld's lines: replies go to the calls waiting for them (matched by id, so
several threads may call at once and their requests are in flight
together), notifications to the event streams (events()) and the job
records wait_job() reads. Sending is serialised by a lock; everything the
reader shares is guarded by one condition variable.
"""

import collections
import inspect
import json
import os
import socket as _socket
import threading
import time
import weakref

from . import errors as _errors
from .errors import KeelConnectionError, KeelError, error_from_reply
from .methods import METHODS, python_name

__all__ = ["Client", "EventStream", "DEFAULT_SOCKET", "default_socket"]

#: where keeld listens by default (keeld's --run-dir is /run/keel)
DEFAULT_SOCKET = "/run/keel/keeld.sock"

_WAITING = object()  # a pending call's slot before its reply came
_DEFAULT = object()  # "the client's timeout"

# How much is kept for jobs and event streams nobody reads.
_MAX_JOB_RECORDS = 256
_MAX_JOB_PROGRESS = 10000
_MAX_EVENTS = 10000


def default_socket():
    """$KEEL_SOCKET, else /run/keel/keeld.sock."""
    return os.environ.get("KEEL_SOCKET") or DEFAULT_SOCKET


class _JobRecord:
    """What arrived for one job: job.progress params and job.done's."""

    __slots__ = ("progress", "done", "waiters", "born")

    def __init__(self):
        self.progress = collections.deque(maxlen=_MAX_JOB_PROGRESS)
        self.done = None
        self.waiters = 0
        self.born = time.monotonic()


class Client:
    """A connection to keeld.

    ``Client(socket=None, timeout=None, connect_timeout=10.0)``: `socket` is
    the path of keeld's socket (default $KEEL_SOCKET, else
    /run/keel/keeld.sock; keeld-ro.sock gives read methods only);
    `timeout` the seconds a call waits for its reply (None: as long as it
    takes), after which TimeoutError is raised.

    Every JSON-RPC method is a Python method: "domain.set_memory" is
    ``client.domain_set_memory(domain, memory_kb)``. Members left None are
    not sent (keeld applies its default). A call returns keeld's result
    (dicts and lists as JSON decodes them) or raises a KeelError subclass
    (NoDomain, WrongState, InvalidParams, ...) carrying keeld's code, name
    and message; a lost connection raises KeelConnectionError.

    Thread-safe: any number of threads may call at once. Usable as a
    context manager (closes the connection). A connection that was lost
    is not re-opened: make a new Client (event subscriptions and the
    notifications of jobs belong to the connection)."""

    def __init__(self, socket=None, timeout=None, connect_timeout=10.0):
        if socket is None:
            env = os.environ.get("KEEL_SOCKET")
            self.socket_path = env or DEFAULT_SOCKET
            self._origin = ("from $KEEL_SOCKET" if env else
                            "the default; set KEEL_SOCKET or pass socket= "
                            "to use another")
        else:
            self.socket_path = os.fspath(socket)
            self._origin = None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._sub_lock = threading.Lock()  # events.subscribe/unsubscribe
        self._pending = {}  # id -> _WAITING or the reply
        self._next_id = 1
        self._closed = False
        self._dead = None  # why the connection is gone: a message, or an error dict
        self._null_error = None  # the last error keeld sent with a null id
        self._streams = weakref.WeakSet()
        self._subscribed = False
        self._jobs = collections.OrderedDict()  # job id -> _JobRecord
        self._sock = self._connect()
        self._rfile = self._sock.makefile("rb")
        self._reader = threading.Thread(target=self._read_loop,
                                        name="keel-client-reader", daemon=True)
        self._reader.start()

    # --- connecting ---------------------------------------------------------

    def _where(self):
        if self._origin:
            return "%s (%s)" % (self.socket_path, self._origin)
        return self.socket_path

    def _connect(self):
        """A socket connected to keeld, or KeelConnectionError saying what
        is wrong and where the client looked."""
        path = self.socket_path
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            s.settimeout(self.connect_timeout)
            s.connect(path)
            s.settimeout(None)
            return s
        except FileNotFoundError as e:
            s.close()
            parent = os.path.dirname(path) or "."
            why = ("no such socket: keeld is not running, or runs with another "
                   "--run-dir" if os.path.isdir(parent) else
                   "%s does not exist: keeld is not running (or runs with "
                   "another --run-dir)" % parent)
            raise KeelConnectionError("cannot connect to keeld at %s: %s"
                                      % (self._where(), why), path, e.errno) from None
        except ConnectionRefusedError as e:
            s.close()
            raise KeelConnectionError(
                "cannot connect to keeld at %s: connection refused: the socket "
                "is there but keeld is not running (left behind by a keeld that "
                "stopped?)" % self._where(), path, e.errno) from None
        except PermissionError as e:
            s.close()
            raise KeelConnectionError(
                "cannot connect to keeld at %s: permission denied: keeld.sock is "
                "for root (or keeld's --sock-group); keeld-ro.sock beside it "
                "allows read methods to anyone" % self._where(), path,
                e.errno) from None
        except _socket.timeout:
            s.close()
            raise KeelConnectionError(
                "cannot connect to keeld at %s: no answer within %s s (keeld "
                "hangs or is overloaded)" % (self._where(), self.connect_timeout),
                path) from None
        except OSError as e:
            s.close()
            raise KeelConnectionError("cannot connect to keeld at %s: %s"
                                      % (self._where(), e.strerror or e), path,
                                      e.errno) from None

    # --- the reader -----------------------------------------------------------

    def _read_loop(self):
        why = None
        try:
            while True:
                line = self._rfile.readline()
                if not line:
                    break
                if line.endswith(b"\n"):
                    self._line(line)
        except (OSError, ValueError) as e:
            why = e
        with self._cond:
            if self._closed:
                self._dead = "the client was closed"
            elif self._null_error is not None:
                # keeld said why it closed (too many clients, a line too long)
                self._dead = self._null_error
            else:
                self._dead = ("keeld closed the connection on %s (it stopped "
                              "or restarted?)%s" % (self.socket_path,
                                                    ": %s" % why if why else ""))
            self._cond.notify_all()

    def _line(self, line):
        try:
            msg = json.loads(line)
        except ValueError:
            return  # keeld sends JSON; nothing to match a broken line to
        if not isinstance(msg, dict):
            return
        with self._cond:
            rid = msg.get("id")
            if rid is not None:
                if isinstance(rid, int) and self._pending.get(rid) is _WAITING:
                    self._pending[rid] = msg
                    self._cond.notify_all()
                # else: a reply to a call that timed out: dropped
            elif "method" in msg:
                self._notification(msg.get("method"), msg.get("params"))
                self._cond.notify_all()
            elif isinstance(msg.get("error"), dict):
                # an error with a null id: keeld refuses the connection
                # (too many clients) or could not read a line; it is what
                # callers get if the connection closes next
                self._null_error = msg["error"]

    def _notification(self, method, params):
        """Lock held."""
        if not isinstance(params, dict):
            return
        if method == "event":
            for s in list(self._streams):
                s._push(params)
        elif method in ("job.progress", "job.done"):
            job = params.get("job")
            rec = self._job_record(job)
            if method == "job.done":
                rec.done = params
            else:
                rec.progress.append(params)

    def _job_record(self, job):
        """Lock held."""
        rec = self._jobs.get(job)
        if rec is None:
            rec = self._jobs[job] = _JobRecord()
            while len(self._jobs) > _MAX_JOB_RECORDS:
                victim = next((k for k, r in self._jobs.items()
                               if r.waiters == 0 and k != job), None)
                if victim is None:
                    break
                del self._jobs[victim]
        return rec

    def _dead_error(self, method=None):
        """A fresh exception for a connection that is gone. Lock held."""
        if isinstance(self._dead, dict):
            return error_from_reply(self._dead, method)
        return KeelConnectionError("%s%s" % ("%s: " % method if method else "",
                                             self._dead), self.socket_path)

    # --- calls --------------------------------------------------------------------

    def call(self, method, params=None, timeout=_DEFAULT):
        """Calls a JSON-RPC method by name with a params dict (None: none)
        and returns its result; raises a KeelError for an error reply,
        KeelConnectionError when the connection is gone, TimeoutError when
        no reply came within `timeout` seconds (default the client's)."""
        if timeout is _DEFAULT:
            timeout = self.timeout
        with self._cond:
            if self._dead is not None:
                raise self._dead_error(method)
            rid = self._next_id
            self._next_id += 1
            self._pending[rid] = _WAITING
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        try:
            data = (json.dumps(req, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
            with self._send_lock:
                self._sock.sendall(data)
        except (TypeError, ValueError):
            with self._cond:
                self._pending.pop(rid, None)
            raise
        except OSError as e:
            with self._cond:
                self._pending.pop(rid, None)
                if self._dead is not None:
                    raise self._dead_error(method) from None
            raise KeelConnectionError("%s: sending to keeld on %s: %s" % (
                method, self.socket_path, e.strerror or e), self.socket_path,
                e.errno) from None
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                rep = self._pending[rid]
                if rep is not _WAITING:
                    del self._pending[rid]
                    break
                if self._dead is not None:
                    del self._pending[rid]
                    raise self._dead_error(method)
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        del self._pending[rid]
                        raise TimeoutError("%s: no reply from keeld on %s within "
                                           "%s s" % (method, self.socket_path, timeout))
                    self._cond.wait(left)
        if "error" in rep:
            raise error_from_reply(rep["error"], method)
        return rep.get("result")

    def notify(self, method, params=None):
        """Sends a request without an id: keeld carries it out and does not
        answer (errors are not reported)."""
        req = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            req["params"] = params
        data = (json.dumps(req, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self._cond:
            if self._dead is not None:
                raise self._dead_error(method)
        try:
            with self._send_lock:
                self._sock.sendall(data)
        except OSError as e:
            raise KeelConnectionError("%s: sending to keeld on %s: %s" % (
                method, self.socket_path, e.strerror or e), self.socket_path,
                e.errno) from None

    def _call_stream(self, method, params):
        """domain.migrate_incoming: the request on a connection of its own;
        returns that socket once the reply is read (a byte at a time, so
        nothing of the stream that follows is swallowed)."""
        s = self._connect()
        try:
            req = {"jsonrpc": "2.0", "id": 1, "method": method}
            if params:
                req["params"] = params
            s.sendall((json.dumps(req, separators=(",", ":"), allow_nan=False) + "\n").encode())
            if self.timeout is not None:
                s.settimeout(self.timeout)
            buf = bytearray()
            while not buf.endswith(b"\n"):
                b = s.recv(1)
                if not b:
                    raise KeelConnectionError(
                        "%s: keeld closed the connection on %s before answering"
                        % (method, self.socket_path), self.socket_path)
                buf += b
            s.settimeout(None)
            rep = json.loads(bytes(buf))
            if "error" in rep:
                raise error_from_reply(rep["error"], method)
            return s
        except BaseException:
            s.close()
            raise

    # --- events -------------------------------------------------------------------

    def events(self, types=None):
        """Subscribes to keeld's lifecycle events and returns an EventStream:
        iterate it (or call get(timeout)) for event dicts {"type", "domid",
        "uuid", "name", "reason"}; `types` keeps only those types
        ("started", "shutdown", ...). The subscription is in place when
        this returns, so what is done after it is seen. Close the stream
        (or use it in a with block) to unsubscribe; several streams may be
        open on one client, each sees every event."""
        stream = EventStream(self, types)
        with self._sub_lock:
            with self._cond:
                self._streams.add(stream)
            if not self._subscribed:
                try:
                    self.call("events.subscribe")
                except BaseException:
                    with self._cond:
                        self._streams.discard(stream)
                    raise
                self._subscribed = True
        return stream

    def _stream_closed(self, stream):
        with self._sub_lock:
            with self._cond:
                self._streams.discard(stream)
                last = len(self._streams) == 0
                alive = self._dead is None
            if last and self._subscribed and alive:
                self._subscribed = False
                try:
                    self.call("events.unsubscribe")
                except (KeelError, ConnectionError, TimeoutError):
                    pass

    # --- jobs -----------------------------------------------------------------------

    def wait_job(self, job, progress=None, timeout=None, poll_interval=1.0):
        """Waits for a job (an id, or the {"job": id} domain_save,
        domain_restore and domain_migrate_local return) to end.

        progress(dict) is called in this thread for each job.progress
        keeld sends ({"job", "phase", "bytes_done", "bytes_total", "pass",
        "pages_sent", "dirty_pages", "downtime_ms"}); keeld sends those to
        the connection that started the job, so for a job started
        elsewhere this polls job.info every `poll_interval` seconds and
        reports {"job", "phase", "bytes_done", "bytes_total"} from it.

        Returns the job's result (a restore's {"domid"}; {} for a save);
        raises the job's error as a KeelError (Cancelled for a cancelled
        job) with .job set, TimeoutError after `timeout` seconds."""
        if isinstance(job, dict):
            job = job["job"]
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            rec = self._job_record(job)
            rec.waiters += 1
        next_poll = time.monotonic()  # at once: the job may have ended long ago
        first_poll = True
        seen_notes = False
        last_polled = None
        try:
            while True:
                with self._cond:
                    while not rec.progress and rec.done is None:
                        now = time.monotonic()
                        if now >= next_poll or (deadline is not None and now >= deadline):
                            break
                        if self._dead is not None:
                            raise self._dead_error("wait_job")
                        until = next_poll if deadline is None else min(next_poll, deadline)
                        self._cond.wait(until - now)
                    items = list(rec.progress)
                    rec.progress.clear()
                    done = rec.done
                if items:
                    seen_notes = True
                    if progress is not None:
                        for p in items:
                            progress(p)
                if done is not None:
                    return self._job_outcome(job, done)
                now = time.monotonic()
                if now >= next_poll:
                    next_poll = now + poll_interval
                    info = self.job_info(job)
                    was_first, first_poll = first_poll, False
                    if info.get("state") != "running":
                        # the notifications may be on their way: use them
                        with self._cond:
                            items = list(rec.progress)
                            rec.progress.clear()
                            done = rec.done
                        if progress is not None:
                            for p in items:
                                progress(p)
                        return self._job_outcome(job, done or info)
                    if progress is not None and not seen_notes and not was_first:
                        p = {k: info.get(k) for k in ("job", "phase", "bytes_done",
                                                      "bytes_total")}
                        if p != last_polled:
                            last_polled = p
                            progress(dict(p))
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError("job %s did not end within %s s" % (job, timeout))
        finally:
            with self._cond:
                rec.waiters -= 1
                if rec.waiters == 0 and rec.done is not None:
                    self._jobs.pop(job, None)

    @staticmethod
    def _job_outcome(job, d):
        state = d.get("state")
        if state == "done":
            r = d.get("result")
            return r if r is not None else {}
        err = d.get("error")
        if not isinstance(err, dict):
            err = {"code": _errors.Cancelled.CODE, "name": _errors.Cancelled.NAME,
                   "message": "job cancelled"} if state == "cancelled" else {
                       "message": "job %s" % state}
        e = error_from_reply(err, job=job)
        e.job_state = state
        raise e

    # --- closing ---------------------------------------------------------------------

    @property
    def closed(self):
        """True once close() was called or the connection was lost."""
        with self._cond:
            return self._dead is not None or self._closed

    def close(self):
        """Closes the connection: calls in flight raise KeelConnectionError,
        event streams end. Jobs keep running in keeld."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        try:
            self._sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass
        if self._reader is not threading.current_thread():
            self._reader.join(10)
        with self._cond:
            if self._dead is None:
                self._dead = "the client was closed"
            self._cond.notify_all()
        try:
            self._rfile.close()
        except OSError:
            pass
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<keel.Client %s%s>" % (self.socket_path,
                                       " closed" if self.closed else "")


class EventStream:
    """Lifecycle events from Client.events(): an iterator of dicts
    {"type", "domid", "uuid", "name", "reason"}.

    ``for ev in stream`` blocks for each event and ends when the stream is
    closed; get(timeout) returns the next event, None once the stream is
    closed, or raises TimeoutError. When keeld goes away both raise
    KeelConnectionError (after the events that came before). close() (or
    leaving a with block) unsubscribes. Events that nobody reads are kept,
    the newest 10000; `dropped` counts the ones lost beyond that."""

    def __init__(self, client, types=None):
        self._client = client
        self._cond = client._cond
        self._queue = collections.deque()
        self._closed = False
        self.types = None if types is None else frozenset(
            [types] if isinstance(types, str) else types)
        self.dropped = 0

    def _push(self, ev):
        """Client lock held."""
        if self._closed or (self.types is not None and ev.get("type") not in self.types):
            return
        if len(self._queue) >= _MAX_EVENTS:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(ev)

    def get(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._queue:
                    return self._queue.popleft()
                if self._closed or self._client._closed:
                    return None
                if self._client._dead is not None:
                    raise self._client._dead_error("events")
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("no event within %s s" % timeout)
                    self._cond.wait(left)

    def pending(self):
        """The events received and not yet read (removes them)."""
        with self._cond:
            out = list(self._queue)
            self._queue.clear()
            return out

    def __iter__(self):
        return self

    def __next__(self):
        ev = self.get()
        if ev is None:
            raise StopIteration
        return ev

    def close(self):
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        self._client._stream_closed(self)

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- one Python method per JSON-RPC method -------------------------------------


def _make_method(rpc, params, flags, doc):
    names = [p.rstrip("?") for p in params]
    optional = [p.endswith("?") for p in params]
    assert optional == sorted(optional), "%s: optional params before required" % rpc
    flagset = set(flags.split(",")) - {""}
    path_members = {f[5:] for f in flagset if f.startswith("PATH:")}
    stream = "STREAM" in flagset
    sig = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           default=None if opt else inspect.Parameter.empty)
         for n, opt in zip(names, optional)])
    pyname = python_name(rpc)

    def method(self, *args, **kwargs):
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError("%s(): %s" % (pyname, e)) from None
        p = {}
        for k, v in bound.arguments.items():
            if k == "self" or v is None:
                continue
            if isinstance(v, os.PathLike):
                v = os.fspath(v)
            if k == "job" and isinstance(v, dict) and "job" in v:
                v = v["job"]  # the {"job": id} a job's method returned
            if k in path_members and isinstance(v, str) and not os.path.isabs(v):
                v = os.path.abspath(v)
            p[k] = v
        if stream:
            return self._call_stream(rpc, p)
        return self.call(rpc, p or None)

    method.__name__ = pyname
    method.__qualname__ = "Client." + pyname
    method.__signature__ = sig
    usage = "%s(%s)" % (rpc, ", ".join(params)) if params else rpc
    method.__doc__ = "%s\n\nJSON-RPC method %s%s." % (
        doc, usage, "; allowed on the read-only socket" if "R" in flagset else "")
    method.rpc_method = rpc
    return method


for _row in METHODS:
    setattr(Client, python_name(_row[0]), _make_method(*_row))
del _row
