"""Persistence: SIGKILL keeld in the middle of operations, restart it on the
same directories, and nothing is lost or duplicated; autostart domains
start with keeld; the pidfile lock refuses a second keeld naming the
first's pid; SIGTERM leaves domains running."""
import collections
import json
import os
import re
import signal
import subprocess
import time

import kd
from kd import check, eq


def snapshot(c):
    doms = {}
    for i in c.call("domain.list"):
        if i["domid"] == 0:
            continue
        cfg = c.call("domain.get_config", {"domain": i["domid"]})
        doms[i["name"]] = (i, cfg)
    defined = {d["name"]: d for d in c.call("domain.list_defined")}
    return doms, defined


def check_unique(listing, what):
    for key in ("name", "domid", "uuid"):
        vals = [i[key] for i in listing]
        dup = sorted(set(v for v in vals if vals.count(v) > 1), key=str)
        check(not dup, "%s: %s listed more than once: %s" % (what, key, dup[:10]))


def burst(k, conns, per_conn, prefix, kill_after, extra_ops=()):
    """Pipelines per_conn creates on each of conns connections (plus
    extra_ops (method, params) on the first), SIGKILLs keeld once
    kill_after replies to them have arrived; returns ({name: result} of the
    creates answered, [names not answered])."""
    cs = [k.connect() for _ in range(conns)]
    sent = []
    for n, c in enumerate(cs):
        for i in range(per_conn):
            name = "%s-%d-%d" % (prefix, n, i)
            sent.append((c, c.send("domain.create", {"config_text": kd.xl(name)}), name))
            if n == 0 and i < len(extra_ops):
                c.send(*extra_ops[i])
    deadline = time.monotonic() + kd.REQUEST_TIMEOUT

    def answered():
        return sum(1 for c, id, _ in sent if c.seen.get(kd.idkey(id)))
    while answered() < kill_after and time.monotonic() < deadline:
        time.sleep(0.001)
    k.kill()
    ok, unknown = {}, []
    for c, id, name in sent:
        rep = c.replies.get(kd.idkey(id))
        if rep is not None and "result" in rep:
            ok[name] = rep["result"]
        elif rep is not None and "error" in rep:
            raise kd.TestFailure("create %s in the burst failed: %s" % (name, rep["error"]))
        else:
            unknown.append(name)
    return ok, unknown


def verify_after_restart(c, before, defined_before, ok, unknown, what):
    listing = [i for i in c.call("domain.list") if i["domid"] != 0]
    check_unique(listing, what)
    now = {i["name"]: i for i in listing}
    for name, (info, cfg) in before.items():
        check(name in now, "%s: %s (domid %d) is lost" % (what, name, info["domid"]))
        i = now[name]
        for key in ("domid", "uuid", "state", "max_kb", "target_kb", "vcpus", "pool",
                    "defined", "autostart", "type"):
            if name.startswith("auto") and key == "autostart":
                continue
            eq(i[key], info[key], "%s: %s of %s" % (what, key, name))
        cfg2 = c.call("domain.get_config", {"domain": name})
        eq(cfg2, cfg, "%s: config of %s" % (what, name))
    for name, r in ok.items():
        check(name in now, "%s: %s, created (domid %d) before the kill, is lost" % (
            what, name, r["domid"]))
        eq((now[name]["domid"], now[name]["uuid"]), (r["domid"], r["uuid"]),
           "%s: domid, uuid of %s" % (what, name))
        eq(now[name]["state"], "running", "%s: state of %s" % (what, name))
    for name in unknown:
        if name in now:
            eq(now[name]["state"], "running", "%s: state of %s (its create was not "
               "answered)" % (what, name))
            cfg = c.call("domain.get_config", {"domain": name})
            eq(cfg.get("c_info", {}).get("name"), name, "%s: config of %s" % (what, name))
    expected = set(before) | set(ok) | set(unknown)
    extra = sorted(set(now) - expected)
    check(not extra, "%s: domains nobody made: %s" % (what, extra))
    eq(c.call("domain.unmanaged"), [], "%s: domain.unmanaged" % what)
    defined = {d["name"]: d for d in c.call("domain.list_defined")}
    names = [d["name"] for d in c.call("domain.list_defined")]
    eq(len(names), len(set(names)), "%s: names in list_defined unique" % what)
    eq(sorted(defined), sorted(defined_before), "%s: defined domains" % what)
    for n, d in defined_before.items():
        eq(defined[n]["uuid"], d["uuid"], "%s: uuid of defined %s" % (what, n))
        eq(defined[n]["autostart"], d["autostart"], "%s: autostart of %s" % (what, n))
    return now


def test_sigkill_mid_operations_loses_nothing():
    with kd.Keeld() as k:
        c = k.connect()
        free0 = c.call("host.info")["free_kb"]
        a = c.call("domain.define", {"config_text": kd.xl("auto", memory=32)})
        c.call("domain.set_autostart", {"domain": "auto", "autostart": True})
        c.call("domain.define", {"config_text": kd.xl("persist", memory=32, vcpus=2)})
        c.call("domain.start", {"domain": "persist"})
        c.call("domain.define", {"config_text": kd.xl("idle")})
        kd.create(c, "plain", memory=64, maxmem=128, maxvcpus=2)
        c.call("domain.set_max_memory", {"domain": "plain", "memory_kb": 98304})
        c.call("domain.set_memory", {"domain": "plain", "memory_kb": 49152})
        c.call("domain.pin_vcpu", {"domain": "plain", "vcpu": 0, "hard": "1-2"})
        kd.create(c, "sleepy", paused=True)
        kd.create(c, "old-name")
        c.call("domain.rename", {"domain": "old-name", "name": "new-name"})
        c.call("cpupool.cpu_remove", {"pool": "Pool-0", "cpus": "6-7"})
        c.call("cpupool.create", {"name": "pp", "sched": "credit", "cpus": "6-7"})
        kd.create(c, "pooled", pool="pp")
        c.call("sched.set", {"domain": "pooled", "weight": 777})
        before, defined_before = snapshot(c)
        pools_before = c.call("cpupool.list")
        total_ok, total_unknown = {}, []
        # operations in flight at the kill that leave things as they were
        extra = [("sched.set", {"domain": "pooled", "weight": 777}),
                 ("domain.set_memory", {"domain": "plain", "memory_kb": 49152}),
                 ("domain.set_autostart", {"domain": "idle", "autostart": False}),
                 ("domain.pin_vcpu", {"domain": "plain", "vcpu": 0, "hard": "1-2"})]
        for rnd, kill_after in enumerate((1, 25, 0, 5, 50, 2)):
            ok, unknown = burst(k, 4, 20, "b%d" % rnd, kill_after, extra)
            k.start()
            c = k.connect()
            what = "after SIGKILL %d (%d creates answered, %d not)" % (
                rnd + 1, len(ok), len(unknown))
            print("     (SIGKILL %d: %d of %d creates answered before it)" % (
                rnd + 1, len(ok), len(ok) + len(unknown)))
            # autostart: keeld started it
            auto = [d for d in c.call("domain.list_defined") if d["name"] == "auto"]
            check(auto and auto[0]["active"], "%s: the autostart domain did not start: %s"
                  % (what, auto))
            i = c.call("domain.info", {"domain": "auto"})
            eq((i["uuid"], i["defined"], i["autostart"]), (a["uuid"], True, True),
               "%s: the autostart domain" % what)
            if rnd == 0:
                before["auto"] = (i, c.call("domain.get_config", {"domain": "auto"}))
                defined_before = {d["name"]: d for d in c.call("domain.list_defined")}
            now = verify_after_restart(c, before, defined_before, dict(total_ok, **ok),
                                       total_unknown + unknown, what)
            pools = c.call("cpupool.list")
            eq([dict(p, n_dom=None) for p in pools], [dict(p, n_dom=None) for p in pools_before],
               "%s: pools" % what)
            for p in pools:
                eq(p["n_dom"], sum(1 for i in c.call("domain.list") if i["pool"] == p["name"]),
                   "%s: n_dom of pool %s" % (what, p["name"]))
            eq(c.call("sched.get", {"domain": "pooled"})["weight"], 777,
               "%s: weight of pooled" % what)
            eq(c.call("domain.vcpu_list", {"domain": "plain"})[0]["hard"], "1-2",
               "%s: plain's vCPU 0 affinity" % what)
            total_ok.update(ok)
            total_ok.update({n: {"domid": now[n]["domid"], "uuid": now[n]["uuid"]}
                             for n in unknown if n in now})
            total_unknown = []
        # the domains still work, and when they are gone the memory is back
        ids = [c.send("domain.destroy", {"domain": i["name"]})
               for i in c.call("domain.list") if i["domid"] != 0]
        for id in ids:
            c.result_of(id, "domain.destroy")
        kd.wait_until(lambda: c.call("host.info")["free_kb"] == free0, 30,
                      what="all memory free once every domain is destroyed (%d KiB free, "
                      "%d at the start)" % (c.call("host.info")["free_kb"], free0))


def test_pidfile_lock_refuses_second_keeld():
    with kd.Keeld() as k:
        c = k.connect()
        kd.create(c, "first")
        for run_dir in (os.path.join(k.dir, "run2"), k.run_dir):
            log = os.path.join(k.dir, "second.log")
            argv = k.argv()
            argv[argv.index("--run-dir") + 1] = run_dir
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(log, "wb"),
                                 stderr=subprocess.STDOUT, cwd=k.dir)
            try:
                rc = p.wait(kd.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise kd.TestFailure("a second keeld on the same state dir (run dir %s) "
                                     "kept running" % run_dir)
            out = open(log, "rb").read().decode("utf-8", "replace")
            check(rc != 0, "a second keeld on the same state dir exited %d" % rc)
            check(re.search(r"\b%d\b" % k.pid, out),
                  "a second keeld's message does not name the pid %d holding the lock: %r"
                  % (k.pid, out[-500:]))
            # the first is untouched: same sockets, same domains
            c2 = k.connect()
            eq(kd.domain_names(c2), ["Domain-0", "first"], "domains after a refused second "
               "keeld (run dir %s)" % run_dir)
            c2.close()
            ro = k.connect(ro=True)
            ro.call("version")
            ro.close()
        eq(kd.domain_names(c), ["Domain-0", "first"], "an old connection still works")


def test_sigterm_leaves_domains_running():
    with kd.Keeld() as k:
        c = k.connect()
        c.call("events.subscribe")
        x = kd.create(c, "x", vcpus=2)
        y = kd.create(c, "y", paused=True)
        c.call("domain.define", {"config_text": kd.xl("z")})
        z = c.call("domain.start", {"domain": "z"})
        before = {i["name"]: i for i in c.call("domain.list")}
        rc = k.term()
        eq(rc, 0, "keeld's exit status after SIGTERM (log:\n%s)" % k.log_tail(15))
        check(c.eof, "a client's connection is still open after SIGTERM")
        stopped = [e for e in c.events() if e["type"] in ("stopped", "shutdown")]
        eq(stopped, [], "events on SIGTERM")
        k.start()
        c = k.connect()
        now = {i["name"]: i for i in c.call("domain.list")}
        eq(sorted(now), sorted(before), "domains after SIGTERM and restart")
        for n, r, state in (("x", x, "running"), ("y", y, "paused"), ("z", z, "running")):
            eq((now[n]["domid"], now[n]["state"]), (r["domid"], state),
               "domid, state of %s after SIGTERM" % n)
        eq(now["z"]["defined"], True, "z still defined")
        # SIGTERM with requests in flight still exits 0 promptly
        c.call("sim.guest_set", {"domain": "x", "shutdown_delay_ms": 2000})
        id = c.send("domain.shutdown", {"domain": "x", "wait": True, "timeout_ms": 10000})
        time.sleep(0.1)
        t0 = time.monotonic()
        rc = k.term()
        eq(rc, 0, "exit status after SIGTERM with a request in flight")
        check(time.monotonic() - t0 < 15, "keeld took %.1f s to exit" % (time.monotonic() - t0))
        rep = c.replies.get(kd.idkey(id))
        if rep is not None and "error" in rep:
            check(rep["error"].get("code") in (kd.ESHUTDOWN, -110, -125),
                  "an in-flight request at SIGTERM: %s" % json.dumps(rep))
        k.start()
        c = k.connect()
        names = kd.domain_names(c)
        check("y" in names and "z" in names, "domains after the second SIGTERM: %s" % names)
        _ = (collections, signal)
