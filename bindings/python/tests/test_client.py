"""Tests of the keel package against a real keeld (sim backend).

keeld is $KEELD, else $top_builddir/daemon/keeld (top_builddir defaults to
the current directory); without it every test that needs it is skipped.
Each keeld runs on a fresh temporary directory (--state-dir, --run-dir,
--sim-dir inside it) and is killed at the end. The keel package tested
is the one beside this directory, unless KEEL_TEST_INSTALLED=1 (then the
one Python finds).

    python3 -m unittest discover -s bindings/python/tests -v
"""

import errno
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if not os.environ.get("KEEL_TEST_INSTALLED"):
    sys.path.insert(0, os.path.dirname(HERE))

import keel  # noqa: E402
from keel import errors  # noqa: E402

TIMEOUT = 30  # seconds, any one call
SIM_HOST = "cpus=8,memory=16G"


def find_keeld():
    path = os.environ.get("KEELD") or os.path.join(
        os.environ.get("top_builddir", "."), "daemon", "keeld")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return os.path.abspath(path)
    return None


def find_api_doc():
    for d in (os.environ.get("top_srcdir"), os.path.join(HERE, "..", "..", "..")):
        if d:
            p = os.path.join(d, "docs", "keeld-api.md")
            if os.path.isfile(p):
                return p
    return None


def xl(name, memory=16, vcpus=1, **extra):
    lines = ["name='%s'" % name, "type='pvh'", "memory=%d" % memory,
             "vcpus=%d" % vcpus]
    lines += ["%s=%s" % (k, json.dumps(v) if isinstance(v, str) else v)
              for k, v in extra.items()]
    return "\n".join(lines) + "\n"


class Keeld:
    """A keeld on its own temporary directory."""

    def __init__(self, *args):
        binary = find_keeld()
        if binary is None:
            raise unittest.SkipTest(
                "no keeld: set KEELD to its path, or top_builddir to a build "
                "tree with daemon/keeld")
        self.dir = tempfile.mkdtemp(prefix="keel-py-test-")
        self.run_dir = os.path.join(self.dir, "run")
        self.sock = os.path.join(self.run_dir, "keeld.sock")
        self.ro_sock = os.path.join(self.run_dir, "keeld-ro.sock")
        self.log = os.path.join(self.dir, "keeld.log")
        argv = [binary, "--backend", "sim", "--foreground",
                "--state-dir", os.path.join(self.dir, "state"),
                "--run-dir", self.run_dir, "--sim-dir", os.path.join(self.dir, "sim"),
                "--sim-host", SIM_HOST] + list(args)
        os.makedirs(self.run_dir)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("keeld exited (%s) while starting:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.sock) and os.path.exists(self.ro_sock):
                try:
                    with keel.Client(self.sock, timeout=5) as c:
                        c.version()
                    break
                except (ConnectionError, TimeoutError, keel.KeelError):
                    pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("keeld did not answer on %s" % self.sock)
            time.sleep(0.02)

    def client(self, ro=False):
        return keel.Client(self.ro_sock if ro else self.sock, timeout=TIMEOUT)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def close(self):
        self.kill()
        if not os.environ.get("KEEL_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_shared = None
_n = [0]


def shared():
    """The keeld most tests share (they name their domains uniquely)."""
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        _shared = Keeld()
    return _shared


def tearDownModule():
    if _shared is not None:
        _shared.close()


def unique(prefix):
    _n[0] += 1
    return "%s%d" % (prefix, _n[0])


class KeeldTest(unittest.TestCase):
    """A test with self.k (the shared keeld) and self.c (a client of it,
    closed after the test)."""

    def setUp(self):
        self.k = shared()
        self.c = self.k.client()
        self.addCleanup(self.c.close)

    def create(self, prefix="d", **kw):
        name = unique(prefix)
        paused = kw.pop("paused", None)
        r = self.c.domain_create(config_text=xl(name, **kw), paused=paused)
        self.addCleanup(self.destroy_quietly, name)
        return name, r

    def destroy_quietly(self, name):
        try:
            with self.k.client() as c:
                c.domain_destroy(name)
        except (keel.KeelError, ConnectionError):
            pass


# --- without keeld ----------------------------------------------------------------

class TestTable(unittest.TestCase):

    def test_every_documented_method_has_a_client_method(self):
        doc = find_api_doc()
        if doc is None:
            self.skipTest("docs/keeld-api.md not found (set top_srcdir)")
        with open(doc) as f:
            text = f.read()
        section = text.split("## Methods", 1)[1].split("## Notifications", 1)[0]
        documented = set()
        for line in section.splitlines():
            if line.startswith("| `"):
                cell = line.split("|")[1]
                documented.update(re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", cell))
        self.assertIn("domain.create", documented)
        in_table = {row[0] for row in keel.METHODS}
        self.assertEqual(documented - in_table, set(), "documented, not in keel.METHODS")
        self.assertEqual(in_table - documented, set(), "in keel.METHODS, not documented")
        for m in in_table:
            fn = getattr(keel.Client, m.replace(".", "_"))
            self.assertTrue(fn.__doc__ and m in fn.__doc__, m)

    def test_signatures(self):
        import inspect
        self.assertEqual(str(inspect.signature(keel.Client.cpupool_create)),
                         "(self, name, sched=None, cpus=None)")
        self.assertEqual(str(inspect.signature(keel.Client.domain_list)), "(self)")
        self.assertIn("paused=None", str(inspect.signature(keel.Client.domain_create)))

    def test_error_classes(self):
        self.assertIs(errors.error_class(-4000, "KEEL_ENODOMAIN"), keel.NoDomain)
        self.assertIs(errors.error_class(-4002, None), keel.WrongState)
        self.assertIs(errors.error_class(None, "invalid params"), keel.InvalidParams)
        self.assertIs(errors.error_class(-32601, None), keel.MethodNotFound)
        self.assertIs(errors.error_class(-32700, "parse error"), keel.ParseError)
        self.assertIs(errors.error_class(-32001, None), keel.ReadOnly)
        self.assertIs(errors.error_class(-errno.ENOENT, "KEEL_ENOENT"), keel.NotFound)
        self.assertIs(errors.error_class(-9999, "KEEL_ENEW"), keel.KeelError)
        e = errors.error_from_reply({"code": -4000, "message": "no domain 'x'",
                                     "data": {"name": "KEEL_ENODOMAIN"}}, "domain.info")
        self.assertIsInstance(e, keel.NoDomain)
        self.assertEqual((e.code, e.name, e.message, e.method),
                         (-4000, "KEEL_ENODOMAIN", "no domain 'x'", "domain.info"))
        self.assertIn("no domain 'x'", str(e))
        self.assertIn("KEEL_ENODOMAIN", str(e))
        e2 = pickle.loads(pickle.dumps(e))
        self.assertEqual((type(e2), e2.code, e2.name, e2.message),
                         (keel.NoDomain, -4000, "KEEL_ENODOMAIN", "no domain 'x'"))

    def test_no_keeld_says_where_it_looked(self):
        d = tempfile.mkdtemp(prefix="keel-py-nokeeld-")
        try:
            path = os.path.join(d, "keeld.sock")
            with self.assertRaises(keel.KeelConnectionError) as cm:
                keel.Client(path)
            self.assertIsInstance(cm.exception, ConnectionError)
            self.assertIn(path, str(cm.exception))
            self.assertIn("not running", str(cm.exception))
            # a socket file nobody listens on
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()
            with self.assertRaises(ConnectionError) as cm:
                keel.Client(path)
            self.assertIn("refused", str(cm.exception))
            self.assertIn(path, str(cm.exception))
            # the default comes from KEEL_SOCKET, and the message says so
            old = os.environ.get("KEEL_SOCKET")
            os.environ["KEEL_SOCKET"] = os.path.join(d, "other.sock")
            try:
                with self.assertRaises(ConnectionError) as cm:
                    keel.Client()
                self.assertIn(os.path.join(d, "other.sock"), str(cm.exception))
                self.assertIn("KEEL_SOCKET", str(cm.exception))
                del os.environ["KEEL_SOCKET"]
                self.assertEqual(keel.default_socket(), "/run/keel/keeld.sock")
            finally:
                if old is None:
                    os.environ.pop("KEEL_SOCKET", None)
                else:
                    os.environ["KEEL_SOCKET"] = old
        finally:
            shutil.rmtree(d, ignore_errors=True)


# --- against keeld -----------------------------------------------------------------

class TestHost(KeeldTest):

    def test_version_and_host(self):
        v = self.c.version()
        self.assertEqual(v["api"], 1)
        self.assertEqual(v["backend"], "sim")
        h = self.c.host_info()
        self.assertEqual(h["nr_cpus"], 8)
        self.assertGreater(h["total_kb"], 0)

    def test_context_manager_and_env(self):
        old = os.environ.get("KEEL_SOCKET")
        os.environ["KEEL_SOCKET"] = self.k.sock
        try:
            with keel.Client(timeout=TIMEOUT) as c:
                self.assertEqual(c.socket_path, self.k.sock)
                self.assertEqual(c.version()["api"], 1)
            self.assertTrue(c.closed)
            with self.assertRaises(ConnectionError):
                c.version()
        finally:
            if old is None:
                del os.environ["KEEL_SOCKET"]
            else:
                os.environ["KEEL_SOCKET"] = old


class TestDomains(KeeldTest):

    def test_lifecycle(self):
        c = self.c
        name, r = self.create("life", memory=32, vcpus=2, maxvcpus=4)
        self.assertEqual(r["name"], name)
        domid = r["domid"]
        names = [d["name"] for d in c.domain_list()]
        self.assertEqual(names[0], "Domain-0")
        self.assertIn(name, names)
        # by name, domid, decimal string and uuid
        for key in (name, domid, str(domid), r["uuid"]):
            self.assertEqual(c.domain_info(key)["domid"], domid)
        info = c.domain_info(name)
        self.assertEqual((info["state"], info["vcpus"], info["max_vcpus"]),
                         ("running", 2, 4))
        self.assertEqual(len(c.domain_vcpu_list(name)), 4)
        cfg = c.domain_get_config(name)
        self.assertIsInstance(cfg, dict)
        self.assertIn("memory", c.domain_get_config(name, format="xl"))
        self.assertIsInstance(c.domain_get_config(name, "xml"), str)
        c.domain_pause(name)
        self.assertEqual(c.domain_info(name)["state"], "paused")
        c.domain_unpause(name)
        c.domain_set_max_memory(name, 65536)
        c.domain_set_memory(name, 24 * 1024)
        self.assertEqual(c.domain_info(name)["target_kb"], 24 * 1024)
        c.domain_set_vcpus(name, 3)
        self.assertEqual(c.domain_info(name)["vcpus"], 3)
        c.domain_pin_vcpu(name, 0, hard="2-3")
        c.domain_pin_vcpu(name, "all", soft="node:0")
        self.assertEqual(c.domain_vcpu_list(name)[0]["hard"], "2-3")
        new = unique("renamed")
        c.domain_rename(name, new)
        self.addCleanup(self.destroy_quietly, new)
        self.assertEqual(c.domain_info(domid)["name"], new)
        c.domain_shutdown(new, wait=True, timeout_ms=10000)
        with self.assertRaises(keel.NoDomain):
            c.domain_info(new)

    def test_create_from_json_paused_and_reboot(self):
        c = self.c
        name, r = self.create("json")
        cfg = c.domain_get_config(name)
        c.domain_destroy(name)
        cfg["c_info"]["name"] = name2 = unique("json")
        r2 = c.domain_create(config=cfg, paused=True)
        self.addCleanup(self.destroy_quietly, name2)
        self.assertEqual(c.domain_info(name2)["state"], "paused")
        c.domain_unpause(name2)
        c.domain_reboot(name2, wait=True)
        self.assertNotEqual(c.domain_info(name2)["domid"], r2["domid"])
        name3 = unique("ovr")
        c.domain_create(config_text=xl(name3), overrides=["memory=20"])
        self.addCleanup(self.destroy_quietly, name3)
        self.assertEqual(c.domain_info(name3)["max_kb"], 20 * 1024)

    def test_defined(self):
        c = self.c
        name = unique("def")
        r = c.domain_define(config_text=xl(name))
        self.assertEqual(r["name"], name)
        self.addCleanup(lambda: self._undefine(name))
        self.assertIn(name, [d["name"] for d in c.domain_list_defined()])
        c.domain_set_autostart(name, True)
        d = [d for d in c.domain_list_defined() if d["name"] == name][0]
        self.assertEqual((d["autostart"], d["active"]), (True, False))
        s = c.domain_start(name, paused=True)
        self.addCleanup(self.destroy_quietly, name)
        info = c.domain_info(name)
        self.assertEqual((info["domid"], info["state"], info["defined"], info["autostart"]),
                         (s["domid"], "paused", True, True))
        c.domain_destroy(name)
        c.domain_undefine(name)
        self.assertNotIn(name, [d["name"] for d in c.domain_list_defined()])
        self.assertEqual(c.domain_unmanaged(), [])

    def _undefine(self, name):
        try:
            with self.k.client() as c:
                c.domain_undefine(name)
        except keel.KeelError:
            pass

    def test_sim(self):
        c = self.c
        name, _ = self.create("sim")
        c.sim_guest_set(name, busy=True, dirty_rate=100, ws_pages=16)
        self.assertIsInstance(c.sim_memory_digest(name)["digest"], str)
        c.sim_guest_act(name, "poweroff")
        deadline = time.monotonic() + 10
        while True:
            try:
                c.domain_info(name)
            except keel.NoDomain:
                break
            self.assertLess(time.monotonic(), deadline, "poweroff did not stop %s" % name)
            time.sleep(0.05)


class TestPools(KeeldTest):

    def test_pools_and_sched(self):
        c = self.c
        pool = unique("pool")
        c.cpupool_cpu_remove("Pool-0", "6-7")
        self.addCleanup(self._give_back, "6-7")
        r = c.cpupool_create(pool, sched="credit", cpus="6")
        self.assertIsInstance(r["poolid"], int)
        self.addCleanup(self._destroy_pool, pool)
        c.cpupool_cpu_add(pool, "7")
        p = [p for p in c.cpupool_list() if p["name"] == pool][0]
        self.assertEqual(p["cpus"], "6-7")
        c.cpupool_cpu_remove(pool, "7")
        new = unique("pool")
        c.cpupool_rename(pool, new)
        self.addCleanup(self._destroy_pool, new)
        name, _ = self.create("inpool")
        c.cpupool_move_domain(name, new)
        self.assertEqual(c.domain_info(name)["pool"], new)
        c.sched_set(domain=name, weight=512, cap=50)
        g = c.sched_get(domain=name)
        self.assertEqual((g["sched"], g["weight"], g["cap"]), ("credit", 512, 50))
        c.sched_set(pool=new, tslice_ms=20)
        self.assertEqual(c.sched_get(pool=new)["tslice_ms"], 20)
        with self.assertRaises(keel.NoPool):
            c.cpupool_destroy("nopool")
        c.domain_destroy(name)
        c.cpupool_destroy(new)
        self.assertNotIn(new, [p["name"] for p in c.cpupool_list()])

    def _give_back(self, cpus):
        with self.k.client() as c:
            c.cpupool_cpu_add("Pool-0", cpus)

    def _destroy_pool(self, pool):
        try:
            with self.k.client() as c:
                c.cpupool_destroy(pool)
        except keel.KeelError:
            pass

    def test_numa_split(self):
        with Keeld() as k, k.client() as c:
            self.assertEqual(c.cpupool_numa_split(), {})
            self.assertEqual(sorted(p["cpus"] for p in c.cpupool_list()), ["0-3", "4-7"])


class TestErrors(KeeldTest):

    def check_error(self, cls, fn, *args, **kw):
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertIsInstance(e, keel.KeelError)
        self.assertEqual(e.code, cls.CODE, str(e))
        self.assertEqual(e.name, cls.NAME, str(e))
        self.assertTrue(e.message, "no message")
        return e

    def test_typed_errors(self):
        c = self.c
        e = self.check_error(keel.NoDomain, c.domain_info, "no-such-domain")
        self.assertEqual(e.method, "domain.info")
        name, _ = self.create("err")
        self.check_error(keel.WrongState, c.domain_unpause, name)
        e = self.check_error(keel.InvalidParams, c.domain_set_memory, name, "lots")
        self.assertIn("memory_kb", e.message)
        self.check_error(keel.InvalidParams, c.call, "domain.info", {"domain": name, "x": 1})
        self.check_error(keel.MethodNotFound, c.call, "domain.nosuch")
        self.check_error(keel.AlreadyExists, c.domain_create, config_text=xl(name))
        e = self.check_error(keel.BadSyntax, c.domain_create, config_text="name='x'\nbad")
        self.assertIn("config_text:2:", e.message)
        self.check_error(keel.NotFound, c.job_info, 999999)
        self.check_error(keel.NotFound, c.domain_get_config, "Domain-0")
        e = self.check_error(keel.InvalidArgument, c.domain_pin_vcpu, name, 0, hard="x-y")
        self.assertIn("hard", e.message)
        # the client checks its own arguments
        with self.assertRaises(TypeError):
            c.domain_info()
        with self.assertRaises(TypeError):
            c.domain_info(name, colour="blue")
        # after errors the connection still works
        self.assertEqual(c.domain_info(name)["name"], name)

    def test_read_only_socket(self):
        with self.k.client(ro=True) as ro:
            self.assertEqual(ro.version()["api"], 1)
            self.assertIsInstance(ro.domain_list(), list)
            self.check_error(keel.ReadOnly, ro.domain_create, config_text=xl("ro"))
            self.check_error(keel.ReadOnly, ro.cpupool_numa_split)
            with ro.events() as ev:  # events.subscribe is a read method
                self.assertFalse(ev.closed)

    def test_too_many_clients(self):
        with Keeld("--max-clients", "1") as k:
            # keeld counts a closed connection (the harness's readiness
            # probe) until it reads its end of file: until then it refuses
            # the next, so the first client retries.
            c = None
            for _ in range(100):
                c = k.client()
                try:
                    self.assertEqual(c.version()["api"], 1)
                    break
                except (keel.TooManyClients, ConnectionError):
                    c.close()
                    c = None
                    time.sleep(0.05)
            self.assertIsNotNone(c, "no connection within --max-clients 1")
            self.addCleanup(c.close)
            with self.assertRaises((keel.TooManyClients, ConnectionError)):
                c2 = k.client()
                try:
                    c2.version()
                finally:
                    c2.close()

    def test_keeld_gone(self):
        with Keeld() as k:
            c = k.client()
            ev = c.events()
            started = threading.Event()
            out = []

            def waiter():
                started.set()
                try:
                    c.domain_shutdown("g", wait=True, timeout_ms=60000)
                except BaseException as e:  # noqa: B902
                    out.append(e)
            c.domain_create(config_text=xl("g"))
            c.sim_guest_set("g", ignore_shutdown=True)
            t = threading.Thread(target=waiter)
            t.start()
            started.wait()
            time.sleep(0.2)
            k.kill()
            t.join(10)
            self.assertEqual(len(out), 1)
            self.assertIsInstance(out[0], keel.KeelConnectionError)
            self.assertIn(k.sock, str(out[0]))
            ev.pending()
            with self.assertRaises(ConnectionError):
                ev.get(5)
            with self.assertRaises(ConnectionError):
                c.version()
            c.close()


class TestEvents(KeeldTest):

    def next_of(self, ev, type, name):
        deadline = time.monotonic() + 10
        while True:
            e = ev.get(max(0.01, deadline - time.monotonic()))
            if e["type"] == type and e["name"] == name:
                return e

    def test_events(self):
        c = self.c
        with c.events() as ev, c.events(types=["paused", "resumed"]) as only:
            name, r = self.create("ev")
            e = self.next_of(ev, "started", name)
            self.assertEqual((e["domid"], e["uuid"]), (r["domid"], r["uuid"]))
            c.domain_pause(name)
            c.domain_unpause(name)
            self.next_of(ev, "paused", name)
            self.next_of(ev, "resumed", name)
            self.assertEqual([x["type"] for x in only.pending() if x["name"] == name],
                             ["paused", "resumed"])
            c.sim_guest_act(name, "crash")
            e = self.next_of(ev, "crashed", name)
            self.assertEqual(e["reason"], "crash")
            new = unique("evr")
            # another client's actions are seen too
            with self.k.client() as other:
                other.domain_create(config_text=xl(new))
                self.addCleanup(self.destroy_quietly, new)
                other.domain_destroy(new)
            self.next_of(ev, "started", new)
            self.next_of(ev, "stopped", new)
            # iteration
            c.domain_create(config_text=xl(unique("evi")))
            for x in ev:
                if x["type"] == "started":
                    self.addCleanup(self.destroy_quietly, x["name"])
                    break
            only.close()
            self.assertTrue(only.closed)
            self.assertEqual(list(only), [])
            # one stream closed: the other still hears
            c.domain_destroy(x["name"])
            self.next_of(ev, "stopped", x["name"])
        with self.assertRaises(StopIteration):
            next(ev)
        # the last stream closed: unsubscribed, and a new stream subscribes again
        with c.events() as ev2:
            name2, _ = self.create("ev")
            self.next_of(ev2, "started", name2)

    def test_event_timeout(self):
        with self.c.events(types="nothing-like-this") as ev:
            t = time.monotonic()
            with self.assertRaises(TimeoutError):
                ev.get(0.2)
            self.assertGreaterEqual(time.monotonic() - t, 0.15)


class TestJobs(KeeldTest):

    def test_save_restore_with_progress(self):
        c = self.c
        name, r = self.create("sv", memory=64)
        digest = c.sim_memory_digest(name)["digest"]
        path = os.path.join(self.k.dir, name + ".save")
        seen = []
        with c.events() as ev:
            job = c.domain_save(name, path)
            self.assertIsInstance(job["job"], int)
            self.assertEqual(c.job_info(job["job"])["kind"], "save")
            self.assertIn(job["job"], [j["job"] for j in c.job_list()])
            self.assertEqual(c.wait_job(job, progress=seen.append, timeout=TIMEOUT), {})
            self.assertTrue(seen, "no progress reported")
            self.assertTrue(all(p["job"] == job["job"] for p in seen))
            done = [p["bytes_done"] for p in seen]
            self.assertEqual(done, sorted(done))
            self.assertEqual(seen[-1]["phase"], "done")
            self.assertEqual(seen[-1]["bytes_done"], seen[-1]["bytes_total"])
            with self.assertRaises(keel.NoDomain):
                c.domain_info(name)
            self.assertEqual(self_next(ev, "saved", name)["uuid"], r["uuid"])
            # restore, relative path (made absolute by the binding), paused
            seen2 = []
            old = os.getcwd()
            os.chdir(self.k.dir)
            try:
                job = c.domain_restore(os.path.basename(path), paused=True)
            finally:
                os.chdir(old)
            res = c.wait_job(job["job"], progress=seen2.append, timeout=TIMEOUT)
            self.assertTrue(seen2)
            info = c.domain_info(name)
            self.assertEqual((res["domid"], info["state"], info["uuid"]),
                             (info["domid"], "paused", r["uuid"]))
            self.assertEqual(c.sim_memory_digest(name)["digest"], digest)
            self_next(ev, "restored", name)
        # save, leave running, followed from another connection (job.info polling)
        job = c.domain_save(name, path + "2", leave="running")
        polled = []
        with self.k.client() as other:
            self.assertEqual(other.wait_job(job, progress=polled.append,
                                            poll_interval=0.05, timeout=TIMEOUT), {})
        self.assertEqual(c.domain_info(name)["state"], "paused")
        self.assertEqual(c.wait_job(job, timeout=TIMEOUT), {})  # done already: same answer

    def test_failed_and_cancelled_jobs(self):
        c = self.c
        bad = os.path.join(self.k.dir, "garbage.save")
        with open(bad, "wb") as f:
            f.write(b"this is not a keel stream\n" * 100)
        with self.assertRaises(keel.KeelError) as cm:
            job = c.domain_restore(bad)
            c.wait_job(job, timeout=TIMEOUT)
        e = cm.exception
        if e.job is not None:
            self.assertEqual(e.job_state, "failed")
            self.assertEqual(c.job_info(e.job)["state"], "failed")
        self.assertTrue(e.message)
        with self.assertRaises(keel.NotFound):
            c.domain_restore(os.path.join(self.k.dir, "missing.save"))
        # a save of a big guest, cancelled
        name, _ = self.create("big", memory=4096)
        c.sim_guest_set(name, busy=True, dirty_rate=1000, ws_pages=1 << 20)
        job = c.domain_save(name, os.path.join(self.k.dir, "big.save"), leave="running")
        first = threading.Event()

        def progress(p):
            if not first.is_set():
                first.set()
                c.job_cancel(job)
        with self.assertRaises(keel.Cancelled) as cm:
            c.wait_job(job, progress=progress, timeout=TIMEOUT)
        self.assertEqual((cm.exception.job, cm.exception.job_state), (job["job"], "cancelled"))
        with self.assertRaises(keel.WrongState):
            c.job_cancel(job["job"])
        self.assertEqual(c.domain_info(name)["state"], "running")

    def test_migrate_local(self):
        with Keeld() as b, b.client() as cb:
            c = self.c
            name, r = self.create("mig", memory=32)
            steps = []
            job = c.domain_migrate_local(name, b.sock, policy="keel", downtime_ms=50)
            c.wait_job(job, progress=steps.append, timeout=TIMEOUT)
            self.assertTrue(steps)
            self.assertTrue(all("pass" in p for p in steps))
            self.assertEqual(cb.domain_info(name)["uuid"], r["uuid"])
            with self.assertRaises(keel.NoDomain):
                c.domain_info(name)
            # the receiving side's request hands back its connection
            s = cb.domain_migrate_incoming(paused=True)
            try:
                self.assertIsInstance(s, socket.socket)
            finally:
                s.close()


def self_next(ev, type, name, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        e = ev.get(max(0.01, deadline - time.monotonic()))
        if e["type"] == type and e["name"] == name:
            return e


class TestConcurrency(KeeldTest):

    def test_threads_share_a_client(self):
        c = self.c
        names = [unique("thr") for _ in range(8)]
        for n in names:
            self.addCleanup(self.destroy_quietly, n)
        failures = []
        barrier = threading.Barrier(len(names))

        def work(name):
            try:
                barrier.wait(10)
                r = c.domain_create(config_text=xl(name))
                for i in range(25):
                    info = c.domain_info(name)
                    if info["domid"] != r["domid"] or info["name"] != name:
                        failures.append("%s: got %r" % (name, info))
                    if i % 5 == 0:
                        c.domain_list()
                        with self.assertRaises(keel.NoDomain):
                            c.domain_info(name + "-none")
                c.domain_pause(name)
                c.domain_destroy(name)
            except BaseException as e:  # noqa: B902
                failures.append("%s: %r" % (name, e))
        with c.events() as ev:
            threads = [threading.Thread(target=work, args=(n,)) for n in names]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
            self.assertFalse(any(t.is_alive() for t in threads), "threads hang")
            self.assertEqual(failures, [])
            self.assertLess(time.monotonic() - t0, TIMEOUT)
            want = {(n, t) for n in names for t in ("started", "paused", "stopped")}
            deadline = time.monotonic() + 10
            while want and time.monotonic() < deadline:
                e = ev.get(max(0.01, deadline - time.monotonic()))
                want.discard((e["name"], e["type"]))
            self.assertEqual(want, set())

    def test_calls_while_waiting(self):
        """A long call (shutdown with wait) does not hold up other threads."""
        c = self.c
        name, _ = self.create("slow")
        c.sim_guest_set(name, shutdown_delay_ms=2000)
        t = threading.Thread(target=c.domain_shutdown, args=(name,),
                             kwargs={"wait": True, "timeout_ms": 10000})
        t0 = time.monotonic()
        t.start()
        time.sleep(0.1)
        # (calls naming the same domain would queue behind the shutdown)
        for _ in range(20):
            c.version()
            self.assertIn(name, [d["name"] for d in c.domain_list()])
        self.assertTrue(t.is_alive(), "the shutdown ended before the other calls")
        t.join(TIMEOUT)
        self.assertGreater(time.monotonic() - t0, 1.5)
        with self.assertRaises(keel.NoDomain):
            c.domain_info(name)

    def test_timeout(self):
        c = self.k.client()
        self.addCleanup(c.close)
        name, _ = self.create("to")
        c.sim_guest_set(name, shutdown_delay_ms=2000)
        with self.assertRaises(TimeoutError):
            c.call("domain.shutdown", {"domain": name, "wait": True}, timeout=0.2)
        # the late reply is dropped; the connection goes on
        self.assertEqual(c.version()["api"], 1)


if __name__ == "__main__":
    unittest.main()
