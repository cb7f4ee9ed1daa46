"""Events: subscribe, then each lifecycle transition gives its notification
with type, domid, uuid, name (and reason); on_* actions are carried out
with no client connected."""
import json
import time

import kd
from kd import check, eq
from test_methods import client, domains

EVENT_TYPES = {"defined", "undefined", "started", "paused", "resumed", "shutdown",
               "stopped", "crashed", "rebooted", "restored", "migrated", "saved",
               "renamed"}


def check_event(ev, type, name, uuid, domid=None, what=""):
    for k in ("type", "domid", "uuid", "name"):
        check(k in ev, "%s event lacks %r: %s" % (type, k, json.dumps(ev)))
    if type in ("shutdown", "crashed"):
        check(ev.get("reason"), "%s event without a reason: %s" % (type, json.dumps(ev)))
    eq(ev["type"], type, "event type %s" % what)
    check(ev["type"] in EVENT_TYPES, "unknown event type %r" % ev["type"])
    eq(ev["name"], name, "%s event's name %s" % (type, what))
    eq(ev["uuid"], uuid, "%s event's uuid %s" % (type, what))
    if domid is not None:
        eq(ev["domid"], domid, "%s event's domid %s" % (type, what))


def types_for(c, uuid):
    return [e["type"] for e in c.events(uuid=uuid)]


def wait_sequence(c, uuid, want, timeout=15):
    """Waits until the events for uuid are exactly want."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = types_for(c, uuid)
        if len(got) >= len(want):
            break
        time.sleep(0.05)
    time.sleep(0.2)  # anything extra arrives too
    got = types_for(c, uuid)
    eq(got, want, "event types for domain %s" % uuid)
    return c.events(uuid=uuid)


def test_lifecycle_events():
    with client() as c, client() as other, domains(c) as d:
        eq(c.call("events.subscribe"), {}, "events.subscribe")
        name, r = d.create()
        uuid, domid = r["uuid"], r["domid"]
        ev = c.wait_event("started", uuid=uuid, timeout=10)
        check_event(ev, "started", name, uuid, domid, "after domain.create")
        c.call("domain.pause", {"domain": name})
        check_event(c.wait_event("paused", uuid=uuid, timeout=10), "paused", name, uuid, domid)
        c.call("domain.unpause", {"domain": name})
        check_event(c.wait_event("resumed", uuid=uuid, timeout=10), "resumed", name, uuid,
                    domid)
        new = kd.unique("ev-renamed")
        d.names.append(new)
        c.call("domain.rename", {"domain": name, "name": new})
        check_event(c.wait_event("renamed", uuid=uuid, timeout=10), "renamed", new, uuid,
                    domid, "(the new name)")
        c.call("domain.shutdown", {"domain": new, "wait": True, "timeout_ms": 20000})
        ev = c.wait_event("shutdown", uuid=uuid, timeout=10)
        check_event(ev, "shutdown", new, uuid, domid)
        eq(ev["reason"], "poweroff", "shutdown event's reason")
        check_event(c.wait_event("stopped", uuid=uuid, timeout=10), "stopped", new, uuid,
                    domid)
        # destroy
        name2, r2 = d.create()
        c.wait_event("started", uuid=r2["uuid"], timeout=10)
        c.call("domain.destroy", {"domain": name2})
        check_event(c.wait_event("stopped", uuid=r2["uuid"], timeout=10), "stopped", name2,
                    r2["uuid"], r2["domid"], "after destroy")
        # the whole sequence, once each
        name3, r3 = d.create()
        c.call("domain.pause", {"domain": name3})
        c.call("domain.unpause", {"domain": name3})
        c.call("domain.destroy", {"domain": name3})
        wait_sequence(c, r3["uuid"], ["started", "paused", "resumed", "stopped"])
        # a connection that did not subscribe got nothing
        time.sleep(0.2)
        eq(other.notifications, [], "notifications to a connection that did not subscribe")


def test_define_undefine_start_events():
    with client() as c, domains(c) as d:
        c.call("events.subscribe")
        name = kd.unique("evdef")
        d.defined.append(name)
        r = c.call("domain.define", {"config_text": kd.xl(name)})
        check_event(c.wait_event("defined", uuid=r["uuid"], timeout=10), "defined", name,
                    r["uuid"])
        s = c.call("domain.start", {"domain": name})
        check_event(c.wait_event("started", uuid=r["uuid"], timeout=10), "started", name,
                    r["uuid"], s["domid"], "after domain.start")
        c.call("domain.destroy", {"domain": name})
        c.wait_event("stopped", uuid=r["uuid"], timeout=10)
        c.call("domain.undefine", {"domain": name})
        check_event(c.wait_event("undefined", uuid=r["uuid"], timeout=10), "undefined",
                    name, r["uuid"])


def test_crash_restart_and_reboot_events():
    with client() as c, domains(c) as d:
        c.call("events.subscribe")
        name, r = d.create(on_crash="restart")
        uuid = r["uuid"]
        c.wait_event("started", uuid=uuid, timeout=10)
        eq(c.call("sim.guest_act", {"domain": name, "reason": "crash"}), {}, "sim.guest_act crash")
        ev = c.wait_event("crashed", uuid=uuid, timeout=15)
        check_event(ev, "crashed", name, uuid, r["domid"])
        ev = c.wait_event("rebooted", uuid=uuid, timeout=15)
        check_event(ev, "rebooted", name, uuid, None, "after on_crash=restart")
        i = kd.wait_state(c, name, "running")
        eq(i["uuid"], uuid, "uuid after the crash restart")
        eq(ev["domid"], i["domid"], "rebooted event's domid is the new domain's")
        # a guest that reboots itself (on_reboot restart, the default)
        name2, r2 = d.create()
        c.call("sim.guest_act", {"domain": name2, "reason": "reboot"})
        ev = c.wait_event("rebooted", uuid=r2["uuid"], timeout=15)
        check_event(ev, "rebooted", name2, r2["uuid"])
        kd.wait_state(c, name2, "running")
        # domain.reboot
        c.call("domain.reboot", {"domain": name2, "wait": True, "timeout_ms": 20000})
        c.wait_event("rebooted", uuid=r2["uuid"], timeout=15)
        # a crash with on_crash=destroy: crashed, then stopped
        name3, r3 = d.create(on_crash="destroy")
        c.call("sim.guest_act", {"domain": name3, "reason": "crash"})
        ev = c.wait_event("crashed", uuid=r3["uuid"], timeout=15)
        check_event(ev, "crashed", name3, r3["uuid"], r3["domid"])
        c.wait_event("stopped", uuid=r3["uuid"], timeout=15)
        kd.wait_gone(c, name3)


def test_two_subscribers_and_unsubscribe():
    with client() as a, client() as b, domains(a) as d:
        a.call("events.subscribe")
        b.call("events.subscribe")
        name, r = d.create()
        a.wait_event("started", uuid=r["uuid"], timeout=10)
        b.wait_event("started", uuid=r["uuid"], timeout=10)
        eq(b.call("events.unsubscribe"), {}, "events.unsubscribe")
        a.call("domain.pause", {"domain": name})
        a.wait_event("paused", uuid=r["uuid"], timeout=10)
        time.sleep(0.5)
        eq(b.events(uuid=r["uuid"], type="paused"), [], "events after unsubscribe")
        # subscribing twice is harmless: one copy of each event
        a.call("events.subscribe")
        a.call("domain.unpause", {"domain": name})
        a.wait_event("resumed", uuid=r["uuid"], timeout=10)
        time.sleep(0.3)
        eq(a.events(uuid=r["uuid"], type="resumed"), [], "a second copy of an event")


def test_on_actions_without_clients():
    """Guests that stop on their own get their on_* action with no client
    connected to keeld."""
    with kd.Keeld() as k:
        c = k.connect()
        kd.create(c, "off")
        rb = kd.create(c, "rb")
        cr = kd.create(c, "cr", on_crash="restart")
        pr = kd.create(c, "pr", on_poweroff="preserve")
        late = kd.create(c, "late")
        late_rb = kd.create(c, "late-rb")
        for n in ("late", "late-rb"):
            c.call("sim.guest_set", {"domain": n, "shutdown_delay_ms": 700})
        c.call("sim.guest_act", {"domain": "off", "reason": "poweroff"})
        c.call("sim.guest_act", {"domain": "rb", "reason": "reboot"})
        c.call("sim.guest_act", {"domain": "cr", "reason": "crash"})
        c.call("sim.guest_act", {"domain": "pr", "reason": "poweroff"})
        # these guests act 0.7 s after the request, long after we are gone
        c.call("domain.shutdown", {"domain": "late"})
        c.call("domain.reboot", {"domain": "late-rb"})
        k.close_clients()
        time.sleep(2.5)
        c = k.connect()

        def settled():
            b = {i["name"]: i for i in c.call("domain.list")}
            done = ("off" not in b and "late" not in b and
                    all(b.get(n, {}).get("state") == "running" for n in ("rb", "cr", "late-rb")))
            return b if done else None
        try:  # a slow machine may need longer; a broken keeld fails below
            kd.wait_until(settled, 15, 0.1, "the on_* actions")
        except kd.TestFailure:
            pass
        byname = {i["name"]: i for i in c.call("domain.list")}
        check("off" not in byname, "a powered-off guest (on_poweroff destroy) is still "
              "listed: %s" % json.dumps(byname.get("off")))
        check("late" not in byname, "a guest that shut down with no client connected "
              "is still listed: %s" % json.dumps(byname.get("late")))
        for n, r in (("rb", rb), ("cr", cr), ("late-rb", late_rb)):
            check(n in byname, "%s (restart action) is gone" % n)
            eq(byname[n]["state"], "running", "%s's state after its restart" % n)
            eq(byname[n]["uuid"], r["uuid"], "%s's uuid after its restart" % n)
        check("pr" in byname, "a preserved guest is gone")
        eq((byname["pr"]["state"], byname["pr"].get("reason")), ("shutdown", "poweroff"),
           "a preserved powered-off guest")
