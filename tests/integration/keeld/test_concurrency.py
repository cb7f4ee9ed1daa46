"""Concurrency: many requests in flight on one connection, each answered
once with its id; operations on one domain in arrival order while a slow
one does not hold up others; 32 clients x KEELD_TEST_OPS mixed operations
with no domain lost or duplicated."""
import json
import random
import threading
import time

import kd
from kd import check, eq
from test_methods import client, domains

OPS_DEFAULT = 1000


def test_pipelined_requests_answered_by_id():
    with client() as c, domains(c) as d:
        names = [kd.unique("pipe") for _ in range(10)]
        d.names.extend(names)
        sent = {}
        for i, n in enumerate(names):
            sent[c.send("domain.create", {"config_text": kd.xl(n)}, id=1000 + i)] = ("create", n)
            sent[c.send("version", id="v%d" % i)] = ("version", None)
            sent[c.send("domain.list", id=-i - 1)] = ("list", None)
            sent[c.send("domain.info", {"domain": "no-such"}, id="e%d" % i)] = ("noinfo", None)
        created = {}
        for id, (what, n) in sent.items():
            rep = c.wait_reply(id, what="reply to %s (id %r)" % (what, id))
            eq(rep.get("id"), id, "reply id")
            if what == "create":
                check("result" in rep, "create %s: %s" % (n, json.dumps(rep)))
                eq(rep["result"]["name"], n, "create reply for id %r" % id)
                created[n] = rep["result"]
            elif what == "version":
                eq(rep.get("result", {}).get("api"), 1, "version reply for id %r" % id)
            elif what == "list":
                check(isinstance(rep.get("result"), list), "list reply for id %r" % id)
            else:
                eq(rep.get("error", {}).get("code"), kd.ENODOMAIN, "error reply for id %r" % id)
        # now info of each, all in flight at once
        ids = {c.send("domain.info", {"domain": n}): n for n in names}
        for id, n in ids.items():
            r = c.result_of(id, "domain.info")
            eq((r["name"], r["domid"], r["uuid"]),
               (n, created[n]["domid"], created[n]["uuid"]), "pipelined info of %s" % n)
        time.sleep(0.2)
        eq(c.duplicates, [], "duplicate replies")
        eq(c.replies, {}, "replies to ids never sent")
        eq(c.null_replies, [], "replies with a null id")
        eq(len(set(created[n]["domid"] for n in names)), len(names), "distinct domids")


def test_slow_request_does_not_hold_others():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        c.call("sim.guest_set", {"domain": name, "shutdown_delay_ms": 3000})
        slow = c.send("domain.shutdown", {"domain": name, "wait": True, "timeout_ms": 20000})
        t0 = time.monotonic()
        fast = [c.send("version"), c.send("domain.list"), c.send("host.info")]
        for f in fast:
            c.result_of(f, "a fast request behind a slow one", timeout=10)
        dt = time.monotonic() - t0
        check(dt < 2.5, "fast requests behind a 3 s shutdown took %.1f s" % dt)
        check(not c.has_reply(slow), "the slow shutdown was answered before the fast ones")
        # other clients too
        with client() as o:
            o.call("domain.list", timeout=5)
        eq(c.result_of(slow, "domain.shutdown wait", timeout=20), {}, "the slow shutdown")
        order = c.arrivals
        check(order.index(kd.idkey(slow)) > order.index(kd.idkey(fast[-1])),
              "reply order %s" % order)


def test_same_domain_in_arrival_order():
    with client() as c, domains(c) as d:
        name, _ = d.create(memory=64, maxmem=128)
        ids = []
        for i in range(20):
            ids.append(("pause", c.send("domain.pause", {"domain": name})))
            ids.append(("info", c.send("domain.info", {"domain": name})))
            ids.append(("unpause", c.send("domain.unpause", {"domain": name})))
        for i in range(1, 33):
            ids.append(("mem", c.send("domain.set_memory",
                                      {"domain": name, "memory_kb": 4096 * i})))
        bad = []
        for what, id in ids:
            rep = c.wait_reply(id)
            if "error" in rep:
                bad.append("%s (id %s): %s" % (what, id, rep["error"]))
            elif what == "info" and rep["result"]["state"] != "paused":
                bad.append("info between pause and unpause says %s" % rep["result"]["state"])
        check(not bad, "operations on one domain out of arrival order:\n" + "\n".join(bad[:10]))
        i = c.call("domain.info", {"domain": name})
        eq((i["state"], i["target_kb"]), ("running", 4096 * 32),
           "state and target after the pipelined operations")


class Worker(threading.Thread):
    def __init__(self, k, n, ops, seed):
        super().__init__(daemon=True)
        self.k = k
        self.n = n
        self.ops = ops
        self.rng = random.Random(seed)
        self.mine = {}  # name -> {"domid","uuid","state"}
        self.errors = []
        self.done_ops = 0
        self.counter = 0
        self.prefix = "c%02d-" % n

    def fail(self, msg):
        self.errors.append("client %d op %d: %s" % (self.n, self.done_ops, msg))

    def pick(self, state=None):
        names = [n for n, v in self.mine.items() if state is None or v["state"] == state]
        return self.rng.choice(names) if names else None

    def run(self):
        try:
            self.c = kd.Client(self.k.sock)
        except OSError as e:
            self.fail("connect: %s" % e)
            return
        try:
            for _ in range(self.ops):
                if len(self.errors) >= 5:
                    break
                self.one()
                self.done_ops += 1
        except Exception as e:  # noqa: BLE001 (a failure of this client)
            self.fail("%s: %s" % (type(e).__name__, e))
        finally:
            self.c.close()

    def call(self, method, params=None):
        try:
            return self.c.call(method, params), None
        except kd.RpcError as e:
            return None, e

    def one(self):
        r = self.rng.random()
        if (r < 0.2 and len(self.mine) < 6) or not self.mine:
            self.counter += 1
            name = "%s%d" % (self.prefix, self.counter)
            res, e = self.call("domain.create", {"config_text": kd.xl(name, memory=16)})
            if e:
                return self.fail("create %s: %s" % (name, e))
            if res.get("name") != name:
                return self.fail("create %s answered %s" % (name, res))
            self.mine[name] = {"domid": res["domid"], "uuid": res["uuid"], "state": "running"}
        elif r < 0.32:
            name = self.pick()
            _, e = self.call("domain.destroy", {"domain": name})
            if e:
                return self.fail("destroy %s: %s" % (name, e))
            del self.mine[name]
        elif r < 0.5:
            name = self.pick("running")
            if name is None:
                return
            _, e = self.call("domain.pause", {"domain": name})
            if e:
                return self.fail("pause %s: %s" % (name, e))
            self.mine[name]["state"] = "paused"
        elif r < 0.68:
            name = self.pick("paused")
            if name is None:
                return
            _, e = self.call("domain.unpause", {"domain": name})
            if e:
                return self.fail("unpause %s: %s" % (name, e))
            self.mine[name]["state"] = "running"
        elif r < 0.95:
            name = self.pick()
            m = self.mine[name]
            by = self.rng.choice([name, m["domid"], m["uuid"]])
            res, e = self.call("domain.info", {"domain": by})
            if e:
                return self.fail("info %s: %s" % (by, e))
            got = (res["name"], res["domid"], res["uuid"], res["state"])
            want = (name, m["domid"], m["uuid"], m["state"])
            if got != want:
                return self.fail("info %s: got %s, expected %s" % (by, got, want))
        else:
            res, e = self.call("domain.list")
            if e:
                return self.fail("list: %s" % e)
            seen = {}
            for i in res:
                if i["name"].startswith(self.prefix):
                    if i["name"] in seen:
                        return self.fail("list shows %s twice" % i["name"])
                    seen[i["name"]] = (i["domid"], i["state"])
            want = {n: (m["domid"], m["state"]) for n, m in self.mine.items()}
            if seen != want:
                return self.fail("list shows %s, expected %s" % (seen, want))


def test_32_clients_mixed_operations():
    ops = kd.env_int("KEELD_TEST_OPS", OPS_DEFAULT)
    with kd.Keeld() as k:
        c = k.connect()
        free0 = c.call("host.info")["free_kb"]
        workers = [Worker(k, n, ops, 1000 + n) for n in range(32)]
        t0 = time.monotonic()
        for w in workers:
            w.start()
        deadline = t0 + kd.env_int("KEELD_TEST_TIMEOUT", 300) - 30
        for w in workers:
            w.join(max(1, deadline - time.monotonic()))
        dt = time.monotonic() - t0
        stuck = [w.n for w in workers if w.is_alive()]
        check(not stuck, "clients %s did not finish within %.0f s" % (stuck, dt))
        errors = [e for w in workers for e in w.errors]
        check(not errors, "%d errors, the first ones:\n%s" % (len(errors),
                                                               "\n".join(errors[:15])))
        total = sum(w.done_ops for w in workers)
        eq(total, 32 * ops, "operations done")
        listed = [i for i in c.call("domain.list") if i["domid"] != 0]
        names = [i["name"] for i in listed]
        domids = [i["domid"] for i in listed]
        check(len(names) == len(set(names)), "duplicated names in domain.list: %s" %
              sorted(n for n in set(names) if names.count(n) > 1))
        check(len(domids) == len(set(domids)), "duplicated domids in domain.list")
        want = {n: m for w in workers for n, m in w.mine.items()}
        lost = sorted(set(want) - set(names))
        extra = sorted(set(names) - set(want))
        check(not lost and not extra, "domain.list differs from what the clients made: "
              "lost %s, unexpected %s" % (lost[:20], extra[:20]))
        for i in listed:
            m = want[i["name"]]
            eq((i["domid"], i["uuid"], i["state"]), (m["domid"], m["uuid"], m["state"]),
               "domain %s at the end" % i["name"])
        # destroy everything; the host's memory comes back whole
        ids = [c.send("domain.destroy", {"domain": n}) for n in names]
        for i in ids:
            c.result_of(i, "domain.destroy")
        kd.wait_until(lambda: c.call("host.info")["free_kb"] == free0, 30,
                      what="the host's free memory back to %d KiB (now %d)" % (
                          free0, c.call("host.info")["free_kb"]))
        print("     (32 clients x %d operations in %.1f s: %.0f ops/s)" % (
            ops, dt, total / dt if dt else 0))
