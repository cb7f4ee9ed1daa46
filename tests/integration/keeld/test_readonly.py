"""The read-only socket: every mutating method is refused with -32001 (and
changes nothing), every read method works."""
import json
import os

import kd
from kd import check, eq
from test_methods import client, domains


def mutating(name, pool, sock, tmp):
    """Every method that changes something, with params that would work on
    the read-write socket."""
    return [
        ("domain.create", {"config_text": kd.xl(name + "-new"), "format": "xl"}),
        ("domain.destroy", {"domain": name}),
        ("domain.shutdown", {"domain": name}),
        ("domain.reboot", {"domain": name}),
        ("domain.pause", {"domain": name}),
        ("domain.unpause", {"domain": name}),
        ("domain.rename", {"domain": name, "name": name + "-renamed"}),
        ("domain.set_memory", {"domain": name, "memory_kb": 8192}),
        ("domain.set_max_memory", {"domain": name, "memory_kb": 65536}),
        ("domain.set_vcpus", {"domain": name, "vcpus": 1}),
        ("domain.pin_vcpu", {"domain": name, "vcpu": 0, "hard": "1"}),
        ("domain.define", {"config_text": kd.xl(name + "-def"), "format": "xl"}),
        ("domain.undefine", {"domain": name}),
        ("domain.start", {"domain": name}),
        ("domain.set_autostart", {"domain": name, "autostart": True}),
        ("cpupool.create", {"name": pool, "sched": "credit", "cpus": "7"}),
        ("cpupool.destroy", {"pool": "Pool-0"}),
        ("cpupool.rename", {"pool": "Pool-0", "name": pool}),
        ("cpupool.cpu_add", {"pool": "Pool-0", "cpus": "7"}),
        ("cpupool.cpu_remove", {"pool": "Pool-0", "cpus": "7"}),
        ("cpupool.move_domain", {"domain": name, "pool": "Pool-0"}),
        ("cpupool.numa_split", None),
        ("sched.set", {"domain": name, "weight": 512}),
        ("domain.save", {"domain": name, "file": os.path.join(tmp, "ro.save")}),
        ("domain.restore", {"file": os.path.join(tmp, "ro.save")}),
        ("domain.migrate_local", {"domain": name, "socket": sock}),
        ("domain.migrate_incoming", {}),
        ("job.cancel", {"job": 1}),
        ("sim.guest_act", {"domain": name, "reason": "poweroff"}),
        ("sim.guest_set", {"domain": name, "busy": True}),
    ]


def test_mutating_methods_refused():
    k = kd.shared()
    with client() as rw, client(ro=True) as ro, domains(rw) as d:
        name, r = d.create(vcpus=1, maxvcpus=2)
        before = rw.call("domain.info", {"domain": name})
        pools = rw.call("cpupool.list")
        bad = []
        for m, p in mutating(name, kd.unique("ropool"), k.sock, k.dir):
            rep = ro.request(m, p)
            err = rep.get("error")
            if not err or err.get("code") != kd.EREADONLY or not err.get("message") or \
                    (err.get("data") or {}).get("name") != "read-only socket":
                bad.append("%s %s: got %s" % (m, json.dumps(p), json.dumps(rep)[:200]))
        check(not bad, "not refused with -32001 on keeld-ro.sock:\n" + "\n".join(bad))
        after = rw.call("domain.info", {"domain": name})
        for key in ("domid", "name", "state", "max_kb", "target_kb", "vcpus", "pool",
                    "defined", "autostart"):
            eq(after[key], before[key], "%s of a domain after refused requests" % key)
        eq(rw.call("cpupool.list"), pools, "pools after refused requests")
        check(not [x for x in rw.call("domain.list_defined") if x["name"].startswith(name)],
              "a refused define left a defined domain")
        check(not [x for x in kd.domain_names(rw) if x.startswith(name + "-")],
              "a refused create left a domain")
        # without params, or with wrong ones, still refused as read-only
        for m in ("domain.destroy", "domain.create", "sim.guest_act"):
            rep = ro.request(m, {"domain": name} if m != "domain.create" else None)
            eq(rep.get("error", {}).get("code"), kd.EREADONLY, "%s on ro, odd params" % m)
        # a notification (no id) of a mutating method does nothing either
        ro.notify("domain.pause", {"domain": name})
        ro.call("version")
        eq(rw.call("domain.info", {"domain": name})["state"], "running",
           "state after a read-only notification domain.pause")
        # the connection still works after refusals
        eq(ro.call("version")["api"], 1, "version on ro after refusals")


def test_read_methods_work():
    with client() as rw, client(ro=True) as ro, domains(rw) as d:
        name, r = d.create()
        eq(ro.call("version")["backend"], "sim", "version on ro")
        eq(ro.call("host.info")["nr_cpus"], 8, "host.info on ro")
        check(name in [i["name"] for i in ro.call("domain.list")], "domain.list on ro")
        eq(ro.call("domain.info", {"domain": name})["uuid"], r["uuid"], "domain.info on ro")
        check(ro.call("domain.vcpu_list", {"domain": name}), "domain.vcpu_list on ro")
        for fmt in ("json", "xl", "xml"):
            check(ro.call("domain.get_config", {"domain": name, "format": fmt}),
                  "domain.get_config %s on ro" % fmt)
        check(isinstance(ro.call("domain.list_defined"), list), "list_defined on ro")
        check(isinstance(ro.call("domain.unmanaged"), list), "unmanaged on ro")
        check(ro.call("cpupool.list"), "cpupool.list on ro")
        check("sched" in ro.call("sched.get", {"domain": name}), "sched.get domain on ro")
        check("sched" in ro.call("sched.get", {"pool": "Pool-0"}), "sched.get pool on ro")
        check(isinstance(ro.call("job.list"), list), "job.list on ro")
        check(ro.call("sim.memory_digest", {"domain": name}).get("digest"),
              "sim.memory_digest on ro")
        # errors on ro are the ordinary ones
        eq(ro.error("domain.info", {"domain": "no-such"}).code, kd.ENODOMAIN,
           "unknown domain on ro")
        eq(ro.error("domain.info", {}).code, kd.EPARAMS, "bad params on ro")
        eq(ro.error("domain.nosuch").code, kd.EMETHOD, "unknown method on ro")
        # events on ro
        eq(ro.call("events.subscribe"), {}, "events.subscribe on ro")
        rw.call("domain.pause", {"domain": name})
        ev = ro.wait_event("paused", name=name, timeout=10)
        eq(ev.get("uuid"), r["uuid"], "paused event's uuid on ro")
        eq(ro.call("events.unsubscribe"), {}, "events.unsubscribe on ro")
        # jobs started on rw can be read on ro
        rw.call("domain.unpause", {"domain": name})
        job = rw.call("domain.save", {"domain": name, "leave": "running",
                                      "file": os.path.join(kd.shared().dir, name + ".save")})["job"]
        j = ro.call("job.info", {"job": job})
        eq(j.get("job"), job, "job.info on ro")
        check(job in [x.get("job") for x in ro.call("job.list")], "job.list on ro")
        kd.wait_job(rw, job)
