"""Every method of docs/keeld-api.md with valid params and the shape of its
result, and its main errors: unknown domain (-4000 KEEL_ENODOMAIN), wrong
state (-4002 KEEL_ESTATE), bad params (-32602 naming the member), unknown
method (-32601)."""
import contextlib
import json
import os
import re

import kd
from kd import check, eq, expect_error, xl

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FLAGS_RE = re.compile(r"^[r-][b-][p-][s-][c-][d-]$")


@contextlib.contextmanager
def client(k=None, ro=False):
    c = (k or kd.shared()).connect(ro=ro)
    try:
        yield c
    finally:
        c.close()


class Domains:
    """Names created by a test, destroyed (and undefined) at the end."""

    def __init__(self, c):
        self.c = c
        self.names = []
        self.defined = []

    def create(self, prefix="m", paused=False, **cfg):
        name = kd.unique(prefix)
        self.names.append(name)
        r = kd.create(self.c, name, paused=paused, **cfg)
        return name, r

    def cleanup(self):
        for n in self.names:
            try:
                self.c.call("domain.destroy", {"domain": n})
            except kd.RpcError:
                pass
        for n in self.defined:
            try:
                self.c.call("domain.destroy", {"domain": n})
            except kd.RpcError:
                pass
            try:
                self.c.call("domain.undefine", {"domain": n})
            except kd.RpcError:
                pass


@contextlib.contextmanager
def domains(c):
    d = Domains(c)
    try:
        yield d
    finally:
        d.cleanup()


def check_info(i, what):
    check(isinstance(i, dict), "%s: info is not an object: %r" % (what, i))
    missing = kd.INFO_KEYS - set(i)
    check(not missing, "%s: info lacks %s: %s" % (what, sorted(missing), json.dumps(i)))
    check(i["type"] in ("pv", "pvh", "hvm"), "%s: type %r" % (what, i["type"]))
    check(i["state"] in ("running", "paused", "shutdown", "dying"),
          "%s: state %r" % (what, i["state"]))
    check(isinstance(i["flags"], str) and FLAGS_RE.match(i["flags"]),
          "%s: flags %r are not xl's six letters" % (what, i["flags"]))
    for k in ("domid", "memory_kb", "target_kb", "max_kb", "vcpus", "max_vcpus"):
        check(isinstance(i[k], int) and not isinstance(i[k], bool),
              "%s: %s is %r, not an integer" % (what, k, i[k]))
    for k in ("defined", "autostart"):
        check(isinstance(i[k], bool), "%s: %s is %r, not a bool" % (what, k, i[k]))
    check(isinstance(i["cpu_time_s"], (int, float)), "%s: cpu_time_s %r" % (what, i["cpu_time_s"]))
    if i["domid"] != 0:
        check(UUID_RE.match(i["uuid"] or ""), "%s: uuid %r" % (what, i["uuid"]))
    if i["state"] == "shutdown":
        check(i.get("reason"), "%s: a shutdown domain without a reason" % what)


# --- read methods --------------------------------------------------------------

def test_version():
    with client() as c:
        v = c.call("version")
        check(isinstance(v, dict), "version: %r" % v)
        check(isinstance(v.get("version"), str) and v["version"], "version: %r" % v)
        eq(v.get("api"), 1, "version's api")
        eq(v.get("backend"), "sim", "version's backend")


def test_host_info():
    with client() as c:
        h = c.call("host.info")
        for k in ("nr_cpus", "nr_nodes", "cores_per_socket", "threads_per_core",
                  "nr_sockets", "cpu_khz", "total_kb", "free_kb", "xen_version",
                  "capabilities", "backend"):
            check(k in h, "host.info lacks %s: %s" % (k, json.dumps(h)))
        eq(h["nr_cpus"], 8, "host.info nr_cpus (sim host cpus=8)")
        eq(h["total_kb"], 16 * 1024 * 1024, "host.info total_kb (sim host memory=16G)")
        eq(h["backend"], "sim", "host.info backend")
        check(0 < h["free_kb"] < h["total_kb"], "host.info free_kb %r" % h["free_kb"])
        eq(h["nr_cpus"], h["nr_sockets"] * h["cores_per_socket"] * h["threads_per_core"],
           "nr_cpus = sockets x cores x threads")


def test_domain_list_dom0_first():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        l = c.call("domain.list")
        check(isinstance(l, list) and len(l) >= 2, "domain.list: %r" % l)
        eq(l[0]["domid"], 0, "domain.list's first domid")
        eq(l[0]["name"], "Domain-0", "domain.list's first name")
        for i in l:
            check_info(i, "domain.list entry %s" % i.get("name"))
        check(name in [i["name"] for i in l], "%s not in domain.list" % name)


def test_create_xl_and_lookups():
    with client() as c, domains(c) as d:
        name, r = d.create(memory=32, vcpus=2)
        check(set(r) >= {"domid", "name", "uuid"}, "domain.create result: %r" % r)
        eq(r["name"], name, "domain.create's name")
        check(UUID_RE.match(r["uuid"]), "domain.create's uuid: %r" % r["uuid"])
        check(isinstance(r["domid"], int) and r["domid"] > 0, "domid %r" % r["domid"])
        by_name = c.call("domain.info", {"domain": name})
        check_info(by_name, "domain.info")
        eq(by_name["domid"], r["domid"], "info domid")
        eq(by_name["uuid"], r["uuid"], "info uuid")
        eq(by_name["state"], "running", "a new domain's state")
        eq(by_name["type"], "pvh", "type")
        eq(by_name["vcpus"], 2, "vcpus")
        eq(by_name["max_kb"], 32 * 1024, "max_kb of memory=32")
        eq(by_name["defined"], False, "a created domain's defined")
        eq(by_name["autostart"], False, "a created domain's autostart")
        eq(by_name["pool"], "Pool-0", "pool")
        for dom in (r["domid"], str(r["domid"]), r["uuid"]):
            i = c.call("domain.info", {"domain": dom})
            eq(i["name"], name, "domain.info by %r" % (dom,))
        # a name already in use
        e = expect_error(lambda: kd.create(c, name), kd.EEXIST, "create a name in use")
        eq(e.name, "KEEL_EEXIST", "data.name of a name in use")


def test_create_json_config_object():
    with client() as c, domains(c) as d:
        name = kd.unique("j")
        d.names.append(name)
        cfg = {"c_info": {"type": "pvh", "name": name},
               "b_info": {"max_vcpus": 2, "avail_vcpus": [0, 1],
                          "target_memkb": 16384, "type.pvh": {}},
               "on_crash": "restart"}
        r = c.call("domain.create", {"config": cfg})
        eq(r["name"], name, "create from a JSON object")
        i = c.call("domain.info", {"domain": name})
        eq(i["vcpus"], 2, "vcpus from the JSON object")
        g = c.call("domain.get_config", {"domain": name})
        check(isinstance(g, dict), "get_config's default format is a JSON object: %r" % g)
        eq(g.get("c_info", {}).get("name"), name, "get_config c_info.name")
        eq(g.get("on_crash"), "restart", "get_config on_crash")


def test_create_text_formats_round_trip():
    """get_config in each format, destroy, create again from that text."""
    with client() as c, domains(c) as d:
        name, r = d.create(memory=48, vcpus=2, maxvcpus=3)
        for fmt in ("json", "xml", "xl"):
            text = c.call("domain.get_config", {"domain": name, "format": fmt})
            if fmt == "json":
                check(isinstance(text, dict), "get_config json: %r" % text)
                text = json.dumps(text)
            else:
                check(isinstance(text, str), "get_config %s is not text: %r" % (fmt, text))
            if fmt == "xml":
                check("<domain" in text and name in text, "get_config xml: %r" % text)
            if fmt == "xl":
                check(re.search(r"name\s*=\s*['\"]%s['\"]" % re.escape(name), text),
                      "get_config xl lacks the name: %r" % text)
            c.call("domain.destroy", {"domain": name})
            r2 = c.call("domain.create", {"config_text": text, "format": fmt})
            eq(r2["name"], name, "create from %s text" % fmt)
            i = c.call("domain.info", {"domain": name})
            eq((i["max_kb"], i["vcpus"], i["max_vcpus"]), (48 * 1024, 2, 3),
               "max_kb, vcpus, max_vcpus after a round trip through %s" % fmt)


def test_create_paused_and_overrides():
    with client() as c, domains(c) as d:
        name = kd.unique("o")
        d.names.append(name)
        r = c.call("domain.create", {"config_text": xl(name, memory=16),
                                     "overrides": ["memory=64", "vcpus=2"],
                                     "paused": True})
        i = c.call("domain.info", {"domain": r["domid"]})
        eq(i["state"], "paused", "created with paused: true")
        check(i["flags"][2] == "p", "flags of a paused domain: %r" % i["flags"])
        eq(i["max_kb"], 64 * 1024, "max_kb with the override memory=64")
        eq(i["vcpus"], 2, "vcpus with the override vcpus=2")


def test_get_config_and_vcpu_list():
    with client() as c, domains(c) as d:
        name, _ = d.create(vcpus=2, maxvcpus=4)
        l = c.call("domain.vcpu_list", {"domain": name})
        check(isinstance(l, list), "vcpu_list: %r" % l)
        eq(len(l), 4, "vcpu_list length (maxvcpus=4)")
        for v in l:
            for k in ("vcpu", "cpu", "state", "online", "cpu_time_s", "hard", "soft"):
                check(k in v, "vcpu_list entry lacks %s: %s" % (k, json.dumps(v)))
            check(isinstance(v["hard"], str) and isinstance(v["soft"], str),
                  "affinities are CPU specs: %s" % json.dumps(v))
        eq([v["vcpu"] for v in l], [0, 1, 2, 3], "vcpu numbers")
        eq([bool(v["online"]) for v in l], [True, True, False, False], "online vCPUs")
        e = expect_error(lambda: c.call("domain.get_config", {"domain": name, "format": "yaml"}),
                         kd.EPARAMS, "get_config format yaml", ["format"])
        _ = e


def test_destroy():
    with client() as c, domains(c) as d:
        name, r = d.create()
        eq(c.call("domain.destroy", {"domain": name}), {}, "domain.destroy's result")
        e = expect_error(lambda: c.call("domain.info", {"domain": name}),
                         kd.ENODOMAIN, "info after destroy")
        eq(e.name, "KEEL_ENODOMAIN", "data.name")
        check(name not in kd.domain_names(c), "destroyed domain still listed")


def test_shutdown_and_reboot():
    with client() as c, domains(c) as d:
        a, _ = d.create()
        eq(c.call("domain.shutdown", {"domain": a, "wait": True, "timeout_ms": 20000}),
           {}, "domain.shutdown wait")
        check(kd.info_or_none(c, a) is None, "%s still there after shutdown wait" % a)
        b, _ = d.create()
        eq(c.call("domain.shutdown", {"domain": b}), {}, "domain.shutdown no wait")
        kd.wait_gone(c, b)
        r, rr = d.create()
        eq(c.call("domain.reboot", {"domain": r, "wait": True, "timeout_ms": 20000}),
           {}, "domain.reboot wait")
        i = c.call("domain.info", {"domain": r})
        eq(i["state"], "running", "state after a reboot")
        eq(i["uuid"], rr["uuid"], "uuid kept over a reboot")
        # a guest that ignores the request: timeout, then force
        g, _ = d.create()
        c.call("sim.guest_set", {"domain": g, "ignore_shutdown": True})
        expect_error(lambda: c.call("domain.shutdown", {"domain": g, "wait": True,
                                                        "timeout_ms": 300}),
                     -110, "shutdown wait of a guest that ignores it (KEEL_ETIMEDOUT)")
        eq(c.call("domain.info", {"domain": g})["state"], "running",
           "state after a timed-out shutdown")
        c.call("domain.shutdown", {"domain": g, "wait": True, "timeout_ms": 300,
                                   "force": True})
        check(kd.info_or_none(c, g) is None, "forced shutdown left %s" % g)


def test_pause_unpause():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        eq(c.call("domain.pause", {"domain": name}), {}, "domain.pause")
        eq(c.call("domain.info", {"domain": name})["state"], "paused", "after pause")
        eq(c.call("domain.unpause", {"domain": name}), {}, "domain.unpause")
        eq(c.call("domain.info", {"domain": name})["state"], "running", "after unpause")


def test_rename():
    with client() as c, domains(c) as d:
        name, r = d.create()
        new = kd.unique("renamed")
        d.names.append(new)
        eq(c.call("domain.rename", {"domain": name, "name": new}), {}, "domain.rename")
        i = c.call("domain.info", {"domain": r["domid"]})
        eq(i["name"], new, "name after rename")
        expect_error(lambda: c.call("domain.info", {"domain": name}), kd.ENODOMAIN,
                     "info by the old name")
        other, _ = d.create()
        expect_error(lambda: c.call("domain.rename", {"domain": other, "name": new}),
                     kd.EEXIST, "rename to a name in use")


def test_memory_and_vcpus():
    with client() as c, domains(c) as d:
        name, _ = d.create(memory=64, vcpus=1, maxvcpus=4, maxmem=128)
        eq(c.call("domain.set_memory", {"domain": name, "memory_kb": 32768}), {},
           "domain.set_memory")
        eq(c.call("domain.info", {"domain": name})["target_kb"], 32768, "target_kb")
        eq(c.call("domain.set_max_memory", {"domain": name, "memory_kb": 262144}), {},
           "domain.set_max_memory")
        eq(c.call("domain.info", {"domain": name})["max_kb"], 262144, "max_kb")
        eq(c.call("domain.set_vcpus", {"domain": name, "vcpus": 3}), {}, "domain.set_vcpus")
        eq(c.call("domain.info", {"domain": name})["vcpus"], 3, "vcpus after set_vcpus")
        online = [v for v in c.call("domain.vcpu_list", {"domain": name}) if v["online"]]
        eq(len(online), 3, "online vCPUs in vcpu_list")
        expect_error(lambda: c.call("domain.set_vcpus", {"domain": name, "vcpus": 9}),
                     (kd.EINVAL, -34, kd.EPARAMS), "set_vcpus over maxvcpus")


def test_pin_vcpu():
    with client() as c, domains(c) as d:
        name, _ = d.create(vcpus=2)
        before = c.call("domain.vcpu_list", {"domain": name})
        eq(c.call("domain.pin_vcpu", {"domain": name, "vcpu": 0, "hard": "2-3"}), {},
           "domain.pin_vcpu")
        l = c.call("domain.vcpu_list", {"domain": name})
        eq(l[0]["hard"], "2-3", "vCPU 0's hard affinity")
        eq(l[1]["hard"], before[1]["hard"], "vCPU 1's hard affinity (not pinned)")
        eq(l[0]["soft"], before[0]["soft"], "vCPU 0's soft affinity (omitted: unchanged)")
        c.call("domain.pin_vcpu", {"domain": name, "vcpu": "all", "soft": "4-5"})
        l = c.call("domain.vcpu_list", {"domain": name})
        eq([v["soft"] for v in l], ["4-5", "4-5"], "soft affinities after vcpu all")
        eq(l[0]["hard"], "2-3", "hard affinity kept when only soft is given")
        e = expect_error(lambda: c.call("domain.pin_vcpu", {"domain": name, "vcpu": 0,
                                                            "hard": "40-41"}),
                         kd.EINVAL, "pin to CPUs the host does not have")
        check(e.message.startswith("'hard'"), "a bad hard spec's message %r does not start "
              "with 'hard'" % e.message)
        e = expect_error(lambda: c.call("domain.pin_vcpu", {"domain": name, "vcpu": 0,
                                                            "soft": "x-y"}),
                         kd.EINVAL, "pin to a spec that is not one")
        check(e.message.startswith("'soft'"), "a bad soft spec's message %r does not start "
              "with 'soft'" % e.message)


def test_define_start_autostart_undefine():
    with client() as c, domains(c) as d:
        name = kd.unique("def")
        d.defined.append(name)
        r = c.call("domain.define", {"config_text": xl(name, memory=16), "format": "xl"})
        check(set(r) >= {"name", "uuid"}, "domain.define's result: %r" % r)
        eq(r["name"], name, "define's name")
        check(UUID_RE.match(r["uuid"]), "define's uuid %r" % r["uuid"])

        def entry():
            l = c.call("domain.list_defined")
            check(isinstance(l, list), "list_defined: %r" % l)
            e = [x for x in l if x.get("name") == name]
            check(len(e) == 1, "%s appears %d times in list_defined" % (name, len(e)))
            for k in ("name", "uuid", "autostart", "active", "domid"):
                check(k in e[0], "list_defined entry lacks %s: %s" % (k, json.dumps(e[0])))
            return e[0]
        e = entry()
        eq((e["uuid"], e["autostart"], e["active"]), (r["uuid"], False, False),
           "a new defined domain (uuid, autostart, active)")
        expect_error(lambda: c.call("domain.define", {"config_text": xl(name)}),
                     kd.EEXIST, "define a name already defined")
        eq(c.call("domain.set_autostart", {"domain": name, "autostart": True}), {},
           "domain.set_autostart")
        eq(entry()["autostart"], True, "autostart after set_autostart")
        s = c.call("domain.start", {"domain": name})
        check(isinstance(s.get("domid"), int) and s["domid"] > 0, "domain.start: %r" % s)
        e = entry()
        eq((e["active"], e["domid"]), (True, s["domid"]), "list_defined after start")
        i = c.call("domain.info", {"domain": name})
        eq((i["domid"], i["uuid"], i["defined"], i["autostart"], i["state"]),
           (s["domid"], r["uuid"], True, True, "running"), "info of a started defined domain")
        expect_error(lambda: c.call("domain.start", {"domain": name}),
                     (kd.ESTATE, kd.EEXIST, -16), "start a running defined domain")
        c.call("domain.destroy", {"domain": name})
        e = entry()
        eq(e["active"], False, "active after destroy")
        # paused start, by uuid
        s = c.call("domain.start", {"domain": r["uuid"], "paused": True})
        eq(c.call("domain.info", {"domain": s["domid"]})["state"], "paused",
           "domain.start paused")
        c.call("domain.destroy", {"domain": name})
        c.call("domain.set_autostart", {"domain": name, "autostart": False})
        eq(entry()["autostart"], False, "autostart after set_autostart false")
        eq(c.call("domain.undefine", {"domain": name}), {}, "domain.undefine")
        check(name not in [x["name"] for x in c.call("domain.list_defined")],
              "undefined domain still in list_defined")
        # set_autostart on a domain that is not defined
        t, _ = d.create()
        expect_error(lambda: c.call("domain.set_autostart", {"domain": t, "autostart": True}),
                     (kd.ENODOMAIN, kd.EINVAL, kd.ESTATE),
                     "set_autostart of a transient domain")


def test_unmanaged():
    with client() as c:
        u = c.call("domain.unmanaged")
        check(isinstance(u, list), "domain.unmanaged: %r" % u)
        for x in u:
            check(set(x) >= {"domid", "uuid", "name", "adopted"}, "unmanaged entry %r" % x)
        eq(u, [], "domain.unmanaged on a host where keeld made every domain")


def test_cpupools_and_sched():
    with kd.Keeld() as k, client(k) as c:
        l = c.call("cpupool.list")
        eq(len(l), 1, "pools on a new host")
        p0 = l[0]
        for key in ("poolid", "name", "sched", "n_dom", "cpus"):
            check(key in p0, "cpupool.list entry lacks %s: %s" % (key, json.dumps(p0)))
        eq((p0["poolid"], p0["name"], p0["cpus"]), (0, "Pool-0", "0-7"), "Pool-0")
        eq(c.call("cpupool.cpu_remove", {"pool": "Pool-0", "cpus": "5-7"}), {},
           "cpupool.cpu_remove")
        eq(c.call("cpupool.list")[0]["cpus"], "0-4", "Pool-0 after cpu_remove")
        r = c.call("cpupool.create", {"name": "tp", "sched": "credit", "cpus": "6-7"})
        check(isinstance(r.get("poolid"), int) and r["poolid"] > 0, "cpupool.create: %r" % r)
        pid = r["poolid"]
        expect_error(lambda: c.call("cpupool.create", {"name": "tp", "cpus": "5"}),
                     kd.EEXIST, "create a pool name in use")
        eq(c.call("cpupool.rename", {"pool": pid, "name": "tq"}), {}, "cpupool.rename")
        names = {p["name"]: p for p in c.call("cpupool.list")}
        check("tq" in names and "tp" not in names, "pools after rename: %s" % sorted(names))
        eq((names["tq"]["sched"], names["tq"]["cpus"]), ("credit", "6-7"), "pool tq")
        eq(c.call("cpupool.cpu_add", {"pool": "tq", "cpus": "5"}), {}, "cpupool.cpu_add")
        eq({p["name"]: p for p in c.call("cpupool.list")}["tq"]["cpus"], "5-7",
           "tq after cpu_add")
        c.call("cpupool.cpu_remove", {"pool": "tq", "cpus": "5"})
        name = kd.unique("p")
        kd.create(c, name)
        eq(c.call("cpupool.move_domain", {"domain": name, "pool": "tq"}), {},
           "cpupool.move_domain")
        eq(c.call("domain.info", {"domain": name})["pool"], "tq", "pool after move")
        eq({p["name"]: p for p in c.call("cpupool.list")}["tq"]["n_dom"], 1, "tq's n_dom")
        # scheduler of a pool and of a domain
        g = c.call("sched.get", {"pool": "tq"})
        check(set(g) >= {"sched", "tslice_ms", "ratelimit_us"}, "sched.get pool: %r" % g)
        eq(g["sched"], "credit", "sched.get pool's sched")
        eq(c.call("sched.set", {"pool": "tq", "tslice_ms": 20}), {}, "sched.set pool")
        eq(c.call("sched.get", {"pool": "tq"})["tslice_ms"], 20, "tslice_ms after set")
        g = c.call("sched.get", {"domain": name})
        check(set(g) >= {"sched", "weight", "cap"}, "sched.get domain: %r" % g)
        eq((g["sched"], g["weight"], g["cap"]), ("credit", 256, 0), "a new domain's sched")
        eq(c.call("sched.set", {"domain": name, "weight": 512, "cap": 50}), {},
           "sched.set domain")
        g = c.call("sched.get", {"domain": name})
        eq((g["weight"], g["cap"]), (512, 50), "weight, cap after set")
        expect_error(lambda: c.call("sched.set", {"domain": name, "weight": 0}),
                     (kd.EINVAL, -34, kd.EPARAMS), "weight 0")
        # a busy pool cannot go
        expect_error(lambda: c.call("cpupool.destroy", {"pool": "tq"}),
                     (-16, kd.ESTATE, kd.EINVAL), "destroy a pool with a domain in it")
        c.call("cpupool.move_domain", {"domain": name, "pool": "Pool-0"})
        eq(c.call("cpupool.destroy", {"pool": "tq"}), {}, "cpupool.destroy")
        # cpus defaults to the lowest free CPU
        r = c.call("cpupool.create", {"name": "one"})
        eq({p["name"]: p for p in c.call("cpupool.list")}["one"]["cpus"], "5",
           "a pool created without cpus (5-7 free)")
        c.call("cpupool.destroy", {"pool": r["poolid"]})
        # RTDS
        r = c.call("cpupool.create", {"name": "rt", "sched": "rtds", "cpus": "6-7"})
        c.call("cpupool.move_domain", {"domain": name, "pool": r["poolid"]})
        g = c.call("sched.get", {"domain": name})
        eq(g.get("sched"), "rtds", "sched.get of a domain in an RTDS pool")
        check(isinstance(g.get("vcpus"), list) and g["vcpus"], "rtds vcpus: %r" % g)
        for key in ("vcpu", "period_us", "budget_us", "extratime"):
            check(key in g["vcpus"][0], "rtds vcpu lacks %s: %r" % (key, g["vcpus"][0]))
        c.call("sched.set", {"domain": name, "vcpus": [
            {"vcpu": 0, "period_us": 10000, "budget_us": 4000, "extratime": True}]})
        v = c.call("sched.get", {"domain": name})["vcpus"][0]
        eq((v["period_us"], v["budget_us"], v["extratime"]), (10000, 4000, True),
           "rtds vCPU 0 after sched.set")
        # unknown pools
        for m, p in (("cpupool.destroy", {"pool": "nopool"}),
                     ("cpupool.rename", {"pool": "nopool", "name": "x"}),
                     ("cpupool.cpu_add", {"pool": "nopool", "cpus": "7"}),
                     ("cpupool.cpu_remove", {"pool": 77, "cpus": "7"}),
                     ("cpupool.move_domain", {"domain": name, "pool": "nopool"}),
                     ("sched.get", {"pool": "nopool"}),
                     ("sched.set", {"pool": "nopool", "tslice_ms": 10})):
            e = expect_error(lambda: c.call(m, p), kd.ENOPOOL, "%s %s" % (m, json.dumps(p)))
            eq(e.name, "KEEL_ENOPOOL", "%s data.name" % m)


def test_cpupool_numa_split():
    with kd.Keeld() as k, client(k) as c:
        eq(c.call("cpupool.numa_split"), {}, "cpupool.numa_split")
        l = c.call("cpupool.list")
        eq(sorted(p["cpus"] for p in l), ["0-3", "4-7"], "pools after numa_split")
        eq(sorted(p["name"] for p in l), ["Pool-node0", "Pool-node1"],
           "pool names after numa_split")
        expect_error(lambda: c.call("cpupool.numa_split"), (-16, kd.ESTATE),
                     "numa_split twice")


def test_sim_methods():
    with client() as c, domains(c) as d:
        name, _ = d.create(memory=32)
        eq(c.call("sim.guest_set", {"domain": name, "busy": True, "dirty_rate": 100,
                                    "shutdown_delay_ms": 10, "ignore_shutdown": False,
                                    "ws_start": 0, "ws_pages": 16}), {},
           "sim.guest_set")
        dg = c.call("sim.memory_digest", {"domain": name})
        check(isinstance(dg.get("digest"), str) and re.match(r"^[0-9a-f]{32}$", dg["digest"]),
              "sim.memory_digest: %r" % dg)
        expect_error(lambda: c.call("sim.guest_set", {"domain": name, "ws_pages": 1 << 40}),
                     (-34, kd.EINVAL, kd.EPARAMS), "a working set outside memory")
        eq(c.call("sim.guest_act", {"domain": name, "reason": "poweroff"}), {},
           "sim.guest_act")
        kd.wait_gone(c, name)


def test_events_and_jobs_methods():
    with client() as c:
        eq(c.call("events.subscribe"), {}, "events.subscribe")
        eq(c.call("events.unsubscribe"), {}, "events.unsubscribe")
        l = c.call("job.list")
        check(isinstance(l, list), "job.list: %r" % l)
        for m, p in (("job.info", {"job": 987654}), ("job.cancel", {"job": 987654})):
            e = c.error(m, p)
            check(e.code not in (kd.EINTERNAL, kd.EMETHOD), "%s of no job: %s" % (m, e))


# --- errors --------------------------------------------------------------------

NO_DOMS = ("no-such-domain", 31337, "31337", "00000000-0000-4000-8000-00000000beef")


def domain_methods(sock):
    return [
        ("domain.info", {}), ("domain.vcpu_list", {}), ("domain.get_config", {}),
        ("domain.destroy", {}), ("domain.shutdown", {}), ("domain.reboot", {}),
        ("domain.pause", {}), ("domain.unpause", {}),
        ("domain.rename", {"name": "whatever"}),
        ("domain.set_memory", {"memory_kb": 65536}),
        ("domain.set_max_memory", {"memory_kb": 65536}),
        ("domain.set_vcpus", {"vcpus": 1}),
        ("domain.pin_vcpu", {"vcpu": 0, "hard": "0"}),
        ("cpupool.move_domain", {"pool": "Pool-0"}),
        ("sched.get", {}), ("sched.set", {"weight": 256}),
        ("domain.save", {"file": "/nonexistent/x.save"}),
        ("domain.migrate_local", {"socket": sock}),
        ("sim.guest_act", {"reason": "poweroff"}),
        ("sim.guest_set", {"busy": True}),
        ("sim.memory_digest", {}),
    ]


def test_unknown_domain_every_method():
    k = kd.shared()
    with client() as c:
        for m, extra in domain_methods(k.sock):
            for dom in NO_DOMS:
                p = dict(extra, domain=dom)
                e = expect_error(lambda: c.call(m, p), kd.ENODOMAIN,
                                 "%s %s" % (m, json.dumps(p)))
                eq(e.name, "KEEL_ENODOMAIN", "%s data.name" % m)
        for m, extra in (("domain.start", {}), ("domain.undefine", {}),
                         ("domain.set_autostart", {"autostart": True})):
            for dom in ("no-such-domain", "00000000-0000-4000-8000-00000000beef"):
                p = dict(extra, domain=dom)
                e = expect_error(lambda: c.call(m, p), kd.ENODOMAIN,
                                 "%s %s" % (m, json.dumps(p)))


def test_wrong_state():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        expect_error(lambda: c.call("domain.unpause", {"domain": name}), kd.ESTATE,
                     "unpause a running domain")
        c.call("domain.pause", {"domain": name})
        for m, p in (("domain.pause", {}), ("domain.shutdown", {}), ("domain.reboot", {})):
            e = expect_error(lambda: c.call(m, dict(p, domain=name)), kd.ESTATE,
                             "%s of a paused domain" % m)
            eq(e.name, "KEEL_ESTATE", "data.name of %s" % m)
        # a guest that powered off and whose on_poweroff is preserve
        s, _ = d.create(on_poweroff="preserve")
        c.call("sim.guest_act", {"domain": s, "reason": "poweroff"})
        i = kd.wait_state(c, s, "shutdown")
        eq(i.get("reason"), "poweroff", "reason of a preserved powered-off domain")
        for m, p in (("domain.pause", {}), ("domain.unpause", {}),
                     ("domain.set_memory", {"memory_kb": 8192}),
                     ("domain.set_vcpus", {"vcpus": 1}),
                     ("domain.shutdown", {})):
            expect_error(lambda: c.call(m, dict(p, domain=s)), kd.ESTATE,
                         "%s of a shut-down domain" % m)
        e = expect_error(lambda: c.call("domain.get_config", {"domain": 0}), kd.ENOENT,
                         "get_config of Domain-0")
        eq(e.name, "KEEL_ENOENT", "data.name of get_config of Domain-0")
        # Domain-0 is not managed
        for m, p in (("domain.destroy", {}), ("domain.pause", {}),
                     ("domain.shutdown", {})):
            e = expect_error(lambda: c.call(m, dict(p, domain=0)), kd.EPERM,
                             "%s of Domain-0" % m)
            eq(e.name, "KEEL_EPERM", "data.name of %s Domain-0" % m)


def test_bad_params():
    with client() as c, domains(c) as d:
        name, _ = d.create()
        cases = [
            ("domain.info", {}, "domain"),
            ("domain.info", {"domain": True}, "domain"),
            ("domain.info", {"domain": [name]}, "domain"),
            ("domain.info", {"domain": name, "bogus": 1}, "bogus"),
            ("domain.list", {"verbose": True}, "verbose"),
            ("version", {"x": 1}, "x"),
            ("domain.set_memory", {"domain": name}, "memory_kb"),
            ("domain.set_memory", {"domain": name, "memory_kb": "lots"}, "memory_kb"),
            ("domain.set_memory", {"domain": name, "memory_kb": -5}, "memory_kb"),
            ("domain.set_vcpus", {"domain": name, "vcpus": 1.5}, "vcpus"),
            ("domain.rename", {"domain": name}, "name"),
            ("domain.rename", {"domain": name, "name": 7}, "name"),
            ("domain.create", {}, "config"),
            ("domain.create", {"config_text": 5}, "config_text"),
            ("domain.create", {"config": "name='x'"}, "config"),
            ("domain.create", {"config_text": xl("x"), "format": "yaml"}, "format"),
            ("domain.create", {"config_text": xl("x"), "paused": "yes"}, "paused"),
            ("domain.create", {"config_text": xl("x"), "overrides": "memory=5"}, "overrides"),
            ("domain.shutdown", {"domain": name, "wait": "yes"}, "wait"),
            ("domain.shutdown", {"domain": name, "wait": True, "timeout_ms": "soon"},
             "timeout_ms"),
            ("domain.shutdown", {"domain": name, "wait": True, "timeout_ms": -1}, "timeout_ms"),
            ("domain.shutdown", {"domain": name, "timeout_ms": 100}, "timeout_ms"),
            ("domain.reboot", {"domain": name, "force": True}, "force"),
            ("domain.pin_vcpu", {"domain": name, "vcpu": 0}, None),
            ("sim.guest_set", {"domain": name}, None),
            ("sched.set", {"domain": name}, None),
            ("domain.create", {"config_text": xl("x"), "config": {}}, "config"),
            ("domain.create", {"config": {"c_info": {"name": "x"}}, "format": "json"}, "format"),
            ("domain.create", {"config": {"c_info": {"name": "x"}}, "overrides": ["memory=5"]},
             "overrides"),
            ("domain.pin_vcpu", {"domain": name, "vcpu": "some", "hard": "0"}, "vcpu"),
            ("domain.pin_vcpu", {"domain": name, "vcpu": 0, "hard": 3}, "hard"),
            ("domain.save", {"domain": name}, "file"),
            ("domain.save", {"domain": name, "file": "/tmp/x", "leave": "sideways"}, "leave"),
            ("domain.restore", {}, "file"),
            ("domain.set_autostart", {"domain": name}, "autostart"),
            ("cpupool.create", {}, "name"),
            ("cpupool.create", {"name": "x", "sched": "bogus"}, "sched"),
            ("sched.set", {"domain": name, "weight": "heavy"}, "weight"),
            ("job.info", {}, "job"),
            ("sim.guest_act", {"domain": name, "reason": "explode"}, "reason"),
            ("sim.guest_set", {"domain": name, "dirty_rate": "fast"}, "dirty_rate"),
            ("events.subscribe", {"x": 1}, "x"),
        ]
        for m, p, member in cases:  # member None: "at least one of ..."
            expect_error(lambda: c.call(m, p), kd.EPARAMS,
                         "%s %s" % (m, json.dumps(p)), [member] if member else [])
        # positional params
        for m in ("version", "domain.info"):
            rep = c.request(m, [name])
            check("error" in rep, "%s with array params: %s" % (m, json.dumps(rep)))
            eq(rep["error"].get("code"), kd.EPARAMS, "%s with array params" % m)
        check(name in kd.domain_names(c), "the bad requests changed %s" % name)


def test_unknown_method():
    with client() as c:
        for m in ("domain.frobnicate", "nosuch", "DOMAIN.LIST", "domain.list.x",
                  "sim", "rpc.discover", "x" * 300):
            e = expect_error(lambda: c.call(m), kd.EMETHOD, "method %r" % m[:40])
            _ = e
        expect_error(lambda: c.call("domain.frobnicate", {"domain": "x"}), kd.EMETHOD,
                     "unknown method with params")


def test_create_errors():
    with client() as c:
        for p, codes in (
                ({"config_text": "name='bad\n", "format": "xl"}, (-4007, kd.EINVAL)),
                ({"config_text": "{", "format": "json"}, (-4007, kd.EINVAL)),
                ({"config_text": "<domain", "format": "xml"}, (-4007, kd.EINVAL)),
                ({"config_text": xl(kd.unique("big"), memory=16000)}, (-4005,)),
                ({"config_text": xl(kd.unique("cpus"), vcpus=2, maxvcpus=1)},
                 (kd.EINVAL,)),
                ({"config_text": xl(kd.unique("pool"), pool="nopool")}, (kd.ENOPOOL,))):
            e = expect_error(lambda: c.call("domain.create", p), codes,
                             "domain.create %s" % json.dumps(p))
            check(e.name and e.name.startswith("KEEL_"), "data.name %r" % e.name)
        host = c.call("host.info")
        _ = os.path
        check(host["free_kb"] > 0, "host.info after failed creates")
