"""Jobs: domain.save and domain.restore (job.info until done, job.progress
and job.done notifications), job.cancel of a running save, jobs outlive
the connection that started them, domain.migrate_local between two
keelds."""
import json
import os
import time

import kd
from kd import check, eq

JOB_KEYS = {"job", "kind", "domain", "state", "phase", "bytes_done", "bytes_total",
            "error", "result"}
PROGRESS_KEYS = {"job", "phase", "bytes_done", "bytes_total"}
MIGRATE_PROGRESS_KEYS = PROGRESS_KEYS | {"pass", "pages_sent", "dirty_pages", "downtime_ms"}


def check_job(j, what):
    missing = JOB_KEYS - set(j)
    check(not missing, "%s: job.info lacks %s: %s" % (what, sorted(missing), json.dumps(j)))
    check(j["state"] in ("running", "done", "failed", "cancelled"),
          "%s: job state %r" % (what, j["state"]))


def job_notes(c, job, method):
    with c.cond:
        return [n["params"] for n in c.notifications
                if n.get("method") == method and (n.get("params") or {}).get("job") == job]


def wait_done_note(c, job, timeout=120):
    n = c.wait_notification(lambda n: n.get("method") == "job.done" and
                            (n.get("params") or {}).get("job") == job, timeout,
                            "job.done for job %s" % job)
    p = n["params"]
    for k in ("job", "state", "error", "result"):
        check(k in p, "job.done lacks %r: %s" % (k, json.dumps(p)))
    return p


def run_job(c, method, params, what, timeout=120):
    r = c.call(method, params)
    check(isinstance(r, dict) and "job" in r, "%s: result %r has no job" % (method, r))
    job = r["job"]
    j = c.call("job.info", {"job": job})
    check_job(j, what)
    eq(j["job"], job, "%s: job.info's job" % what)
    done = wait_done_note(c, job, timeout)
    eq(done["state"], "done", "%s: job.done state (error %s)" % (what, done.get("error")))
    j = kd.wait_job(c, job, timeout)
    check_job(j, what)
    eq(j["state"], "done", "%s: job.info state (error %s)" % (what, j.get("error")))
    return job, j, done


def test_save_and_restore():
    with kd.Keeld() as k:
        c = k.connect()
        other = k.connect()
        other.call("events.subscribe")
        c.call("events.subscribe")
        r = kd.create(c, "sv", memory=256, vcpus=2)
        c.call("sim.guest_set", {"domain": "sv", "busy": True, "dirty_rate": 2000})
        time.sleep(0.3)
        c.call("domain.pause", {"domain": "sv"})
        digest = c.call("sim.memory_digest", {"domain": "sv"})["digest"]
        path = os.path.join(k.dir, "sv.save")
        job, j, done = run_job(c, "domain.save", {"domain": "sv", "file": path}, "save")
        eq(j["kind"], "save", "job kind")
        progress = job_notes(c, job, "job.progress")
        check(progress, "no job.progress notification for the save")
        for p in progress:
            missing = PROGRESS_KEYS - set(p)
            check(not missing, "job.progress lacks %s: %s" % (sorted(missing), json.dumps(p)))
        last = progress[-1]
        check(0 < last["bytes_done"] <= last["bytes_total"] or last["bytes_total"] == 0,
              "the last save progress: %s" % json.dumps(last))
        check(os.path.getsize(path) > 256 * 1024 * 1024 // 2,
              "the save file has %d bytes for a 256 MiB guest" % os.path.getsize(path))
        check(kd.info_or_none(c, "sv") is None, "sv still there after a save (leave "
              "defaults to destroyed)")
        ev = c.wait_event("saved", uuid=r["uuid"], timeout=10)
        eq(ev["name"], "sv", "saved event's name")
        check(job in [x["job"] for x in c.call("job.list")], "job.list lacks the save")
        with other.cond:
            stray = [n for n in other.notifications if n.get("method") != "event"]
        eq(stray, [], "job notifications to a connection that did not start the job")
        # restore, paused, under another name
        job, j, done = run_job(c, "domain.restore", {"file": path, "name": "sv2",
                                                     "paused": True}, "restore")
        eq(j["kind"], "restore", "restore job kind")
        i = c.call("domain.info", {"domain": "sv2"})
        eq((i["state"], i["max_kb"], i["vcpus"]), ("paused", 256 * 1024, 2),
           "the restored domain")
        eq(c.call("sim.memory_digest", {"domain": "sv2"})["digest"], digest,
           "memory digest after save and restore")
        ev = c.wait_event("restored", name="sv2", timeout=10)
        eq(ev["domid"], i["domid"], "restored event's domid")
        # save leaving the domain running, then paused
        for leave, state in (("running", "running"), ("paused", "paused")):
            if c.call("domain.info", {"domain": "sv2"})["state"] == "paused":
                c.call("domain.unpause", {"domain": "sv2"})
            run_job(c, "domain.save", {"domain": "sv2", "leave": leave,
                                       "file": os.path.join(k.dir, "sv2-%s.save" % leave)},
                    "save leave %s" % leave)
            eq(c.call("domain.info", {"domain": "sv2"})["state"], state,
               "state after save leave %s" % leave)
        # the file's uuid is sv2's now: restoring it again is refused
        rep = c.request("domain.restore", {"file": path, "name": "sv3"})
        if "result" in rep:
            j = kd.wait_job(c, rep["result"]["job"])
            eq((j["state"], (j.get("error") or {}).get("code")), ("failed", kd.EEXIST),
               "restore of a domain whose uuid runs")
        else:
            eq(rep["error"].get("code"), kd.EEXIST, "restore of a domain whose uuid runs")
        # with the name and uuid in the file, which are free again
        c.call("domain.destroy", {"domain": "sv2"})
        job, j, done = run_job(c, "domain.restore", {"file": path}, "restore")
        eq(c.call("domain.info", {"domain": "sv"})["state"], "running",
           "a domain restored without paused")
        # restore of a file that does not exist: an error, or a job that fails
        rep = c.request("domain.restore", {"file": os.path.join(k.dir, "missing.save")})
        if "result" in rep:
            j = kd.wait_job(c, rep["result"]["job"])
            eq(j["state"], "failed", "restore of a missing file")
            check(j["error"], "a failed job without an error")
        eq(c.call("domain.info", {"domain": "sv"})["uuid"], r["uuid"], "uuid after restore")
        # a second save to a file in a directory that does not exist
        rep = c.request("domain.save", {"domain": "sv", "file": "/nonexistent/dir/x.save"})
        if "result" in rep:
            j = kd.wait_job(c, rep["result"]["job"])
            eq(j["state"], "failed", "save to a file keeld cannot write")
        eq(c.call("domain.info", {"domain": "sv"})["state"], "running",
           "a domain whose save failed")


def test_cancel_running_save():
    with kd.Keeld() as k:
        c = k.connect()
        kd.create(c, "big", memory=6144, vcpus=2)
        c.call("sim.guest_set", {"domain": "big", "busy": True, "dirty_rate": 1000,
                                 "ws_pages": 1 << 20})
        time.sleep(0.2)
        path = os.path.join(k.dir, "big.save")
        job = c.call("domain.save", {"domain": "big", "file": path, "leave": "running"})["job"]
        try:
            c.wait_notification(lambda n: n.get("method") == "job.progress", 5,
                                "a first job.progress")
        except kd.TestFailure:
            pass
        rep = c.request("job.cancel", {"job": job})
        j = kd.wait_job(c, job, 60)
        if j["state"] == "done":
            raise kd.TestFailure("the save of a 6 GiB guest finished before job.cancel "
                                 "(cancel answered %s)" % json.dumps(rep))
        eq(rep.get("result"), {}, "job.cancel of a running save: %s" % json.dumps(rep))
        eq(j["state"], "cancelled", "job state after job.cancel (error %s)" % j.get("error"))
        done = wait_done_note(c, job, 30)
        eq(done["state"], "cancelled", "job.done state of a cancelled save")
        i = c.call("domain.info", {"domain": "big"})
        eq(i["state"], "running", "a domain whose save was cancelled")
        # it still works: pause, unpause, destroy
        c.call("domain.pause", {"domain": "big"})
        c.call("domain.unpause", {"domain": "big"})
        rep = c.request("job.cancel", {"job": job})
        check("error" in rep, "job.cancel of a job already cancelled: %s" % json.dumps(rep))
        c.call("domain.destroy", {"domain": "big"})


def test_job_outlives_its_connection():
    with kd.Keeld() as k:
        c = k.connect()
        kd.create(c, "dj", memory=1024)
        job = c.call("domain.save", {"domain": "dj", "leave": "running",
                                     "file": os.path.join(k.dir, "dj.save")})["job"]
        c.close()
        c = k.connect()
        j = kd.wait_job(c, job, 120)
        eq(j["state"], "done", "a save whose client went away (error %s)" % j.get("error"))
        eq(c.call("domain.info", {"domain": "dj"})["state"], "running", "dj after its save")


def migrate(src, dst, name, policy, what):
    rs = src.connect()
    rd = dst.connect()
    rs.call("events.subscribe")
    rd.call("events.subscribe")
    uuid = rs.call("domain.info", {"domain": name})["uuid"]
    params = {"domain": name, "socket": dst.sock}
    if policy:
        params.update(policy)
    job, j, done = run_job(rs, "domain.migrate_local", params, what, timeout=120)
    eq(j["kind"] in ("migrate", "migrate_local"), True, "%s: job kind %r" % (what, j["kind"]))
    progress = job_notes(rs, job, "job.progress")
    check(progress, "%s: no job.progress notification" % what)
    for p in progress:
        missing = MIGRATE_PROGRESS_KEYS - set(p)
        check(not missing, "%s: job.progress lacks %s: %s" % (what, sorted(missing),
                                                             json.dumps(p)))
    check(max(p["pass"] for p in progress) >= 1, "%s: passes %s" % (
        what, [p["pass"] for p in progress]))
    check(kd.info_or_none(rs, name) is None, "%s: %s still on the source" % (what, name))
    i = rd.call("domain.info", {"domain": name})
    eq((i["state"], i["uuid"]), ("running", uuid), "%s: %s on the destination" % (what, name))
    rs.wait_event("migrated", uuid=uuid, timeout=10)
    rs.close()
    rd.close()
    return progress


def test_migrate_local_between_two_keelds():
    with kd.Keeld() as a, kd.Keeld() as b:
        c = a.connect()
        kd.create(c, "mig", memory=512, vcpus=2)
        c.call("sim.guest_set", {"domain": "mig", "busy": True, "dirty_rate": 5000,
                                 "ws_pages": 4096})
        time.sleep(0.3)
        migrate(a, b, "mig", None, "migrate_local a->b")
        cb = b.connect()
        cb.call("sim.guest_set", {"domain": "mig", "busy": True, "dirty_rate": 5000,
                                  "ws_pages": 4096})
        migrate(b, a, "mig", {"policy": "keel", "downtime_ms": 50}, "migrate_local b->a keel")
        eq(kd.domain_names(cb), ["Domain-0"], "b after the domain went back to a")
        # to a socket nobody listens on: an error, and the domain stays
        rep = c.request("domain.migrate_local", {"domain": "mig",
                                                 "socket": os.path.join(a.dir, "nobody.sock")})
        if "result" in rep:
            j = kd.wait_job(c, rep["result"]["job"])
            eq(j["state"], "failed", "migrate to a socket nobody listens on")
        eq(c.call("domain.info", {"domain": "mig"})["state"], "running",
           "a domain whose migration failed")
        # and a name the destination already has
        kd.create(cb, "mig", memory=16)
        rep = c.request("domain.migrate_local", {"domain": "mig", "socket": b.sock})
        if "result" in rep:
            j = kd.wait_job(c, rep["result"]["job"])
            eq(j["state"], "failed", "migrate to a host with the name in use")
        eq(c.call("domain.info", {"domain": "mig"})["state"], "running",
           "a domain whose migration was refused by the destination")
        eq(cb.call("domain.info", {"domain": "mig"})["max_kb"], 16 * 1024,
           "the destination's own domain of that name")
