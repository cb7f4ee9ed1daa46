"""test_python.py: Debian's python3-libvirt against keeld: the API calls
virsh makes and Nova's, events on libvirt's default event loop, many
clients at once."""
import threading
import time
import xml.etree.ElementTree as ET

import kd
import lv


def err_code(fn):
    try:
        fn()
    except lv.libvirt.libvirtError as e:
        return e.get_error_code()
    raise kd.TestFailure("%r should have failed" % fn)


def test_python_calls():
    lv.need_python_libvirt()
    L = lv.libvirt
    with lv.Env() as e:
        c = e.open()
        kd.eq(c.getType(), "Xen", "getType")
        kd.eq(c.getVersion(), 4017000, "getVersion (Xen 4.17)")
        kd.eq(c.getLibVersion(), 9000000, "getLibVersion")
        kd.eq(c.getInfo()[:3], ["x86_64", 16384, 8], "getInfo")
        kd.eq(c.getCPUMap(), (8, [True] * 8, 8), "getCPUMap")
        kd.eq(err_code(lambda: c.lookupByName("demo")), L.VIR_ERR_NO_DOMAIN,
              "lookup of an unknown name")
        d = c.defineXML(lv.domain_xml())
        kd.eq((d.name(), d.UUIDString(), d.ID()), ("demo", lv.DEMO_UUID, -1),
              "the defined domain")
        kd.eq(d.info(), [L.VIR_DOMAIN_SHUTOFF, 262144, 262144, 2, 0],
              "info of the definition")
        kd.eq((d.isActive(), d.isPersistent(), d.autostart()), (0, 1, 0),
              "active, persistent, autostart")
        names = lambda f: sorted(x.name() for x in c.listAllDomains(f))
        kd.eq(names(0), ["Domain-0", "demo"], "listAllDomains(0)")
        kd.eq(names(L.VIR_CONNECT_LIST_DOMAINS_INACTIVE), ["demo"], "inactive")
        kd.eq(names(L.VIR_CONNECT_LIST_DOMAINS_ACTIVE), ["Domain-0"], "active")
        kd.eq(names(L.VIR_CONNECT_LIST_DOMAINS_PERSISTENT), ["demo"],
              "persistent")
        kd.eq(err_code(lambda: d.destroy()), L.VIR_ERR_OPERATION_INVALID,
              "destroy of a shut off domain")
        d.createWithFlags(L.VIR_DOMAIN_START_PAUSED)
        kd.eq(d.state(), [L.VIR_DOMAIN_PAUSED, L.VIR_DOMAIN_PAUSED_USER],
              "state after createWithFlags(START_PAUSED)")
        d.resume()
        kd.eq(d.state()[0], L.VIR_DOMAIN_RUNNING, "state after resume")
        d2 = c.lookupByUUIDString(lv.DEMO_UUID)
        kd.check(d2.ID() > 0, "a running domain has an id")
        kd.eq(c.lookupByID(d2.ID()).name(), "demo", "lookupByID")
        kd.eq(names(L.VIR_CONNECT_LIST_DOMAINS_RUNNING), ["Domain-0", "demo"],
              "running")
        info, maps = d2.vcpus()
        kd.eq([v[0] for v in info], [0, 1], "vcpus() numbers")
        kd.eq(len(maps[0]), 8, "a vCPU's map covers the host's CPUs")
        kd.eq(d2.maxMemory(), 262144, "maxMemory")
        d2.setMemoryFlags(131072, L.VIR_DOMAIN_AFFECT_LIVE)
        kd.eq(d2.info()[2], 131072, "memory after setMemoryFlags(LIVE)")
        d2.setMemoryFlags(196608, L.VIR_DOMAIN_AFFECT_CONFIG)
        kd.eq(ET.fromstring(d2.XMLDesc(L.VIR_DOMAIN_XML_INACTIVE)).findtext(
            "currentMemory"), "196608", "the definition after CONFIG")
        kd.eq(ET.fromstring(d2.XMLDesc(0)).findtext("currentMemory"),
              "131072", "the running domain's XML")
        d2.setAutostart(1)
        kd.eq(d2.autostart(), 1, "autostart")
        d2.destroy()
        kd.eq(d2.isActive(), 0, "isActive after destroy")
        d2.undefine()
        kd.eq(err_code(lambda: c.lookupByUUIDString(lv.DEMO_UUID)),
              L.VIR_ERR_NO_DOMAIN, "lookup after undefine")
        t = c.createXML(lv.domain_xml("trans", uuid=(
            "22222222-2222-3333-4444-555555555555")), 0)
        kd.eq((t.isActive(), t.isPersistent()), (1, 0), "a transient domain")
        kd.eq(err_code(lambda: t.undefine()), L.VIR_ERR_OPERATION_INVALID,
              "undefine of a transient domain")
        t.destroy()
        kd.eq(err_code(lambda: t.info()), L.VIR_ERR_NO_DOMAIN,
              "a transient domain is gone once destroyed")
        kd.eq(err_code(lambda: c.defineXML("<domain type='xen'><name>")),
              L.VIR_ERR_XML_ERROR, "defineXML of broken XML")
        c.close()


def test_python_events():
    """Lifecycle events on libvirt's default event loop, as Nova runs it."""
    lv.need_python_libvirt()
    L = lv.libvirt
    L.virEventRegisterDefaultImpl()
    stop = []

    def loop():
        while not stop:
            L.virEventRunDefaultImpl()
    threading.Thread(target=loop, daemon=True).start()
    with lv.Env() as e:
        c = e.open()
        got = []
        c.domainEventRegisterAny(None, L.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                 lambda conn, dom, ev, det, op: got.append(
                                     (dom.name(), ev, det)), None)
        d = c.defineXML(lv.domain_xml())
        demo = []  # a callback for demo alone, from its start to its destroy
        cb = c.domainEventRegisterAny(d, L.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                      lambda conn, dom, ev, det, op:
                                      demo.append((ev, det)), None)
        other = c.defineXML(lv.domain_xml("other", uuid=(
            "44444444-2222-3333-4444-555555555555")))
        d.create()
        d.suspend()
        d.resume()
        d.shutdown()
        kd.wait_until(lambda: d.state()[0] == L.VIR_DOMAIN_SHUTOFF,
                      what="the shutdown")
        d.create()
        d.destroy()
        kd.wait_until(lambda: len(demo) >= 6, what="the destroy's event")
        c.domainEventDeregisterAny(cb)
        d.undefine()
        E = L
        want = [(E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                (E.VIR_DOMAIN_EVENT_SUSPENDED,
                 E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
                (E.VIR_DOMAIN_EVENT_RESUMED,
                 E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
                (E.VIR_DOMAIN_EVENT_STOPPED,
                 E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN),
                (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                (E.VIR_DOMAIN_EVENT_STOPPED,
                 E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
                (E.VIR_DOMAIN_EVENT_UNDEFINED,
                 E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
        kd.wait_until(lambda: len(got) >= len(want),
                      what="the events (got %r)" % got)
        time.sleep(0.3)
        kd.eq([g for g in got if g[0] == "demo"],
              [("demo",) + w for w in want], "lifecycle events")
        kd.eq([g for g in got if g[0] == "other"],
              [("other",) + want[0]], "the other domain's")
        kd.eq(demo, want[1:-1], "the callback for demo, deregistered")
        other.undefine()
        c.close()
    stop.append(1)


def test_many_clients():
    """32 python clients and virsh at once, each seeing consistent data."""
    lv.need_python_libvirt()
    with lv.Env() as e:
        c = e.open()
        for i in range(4):
            c.defineXML(lv.domain_xml("d%d" % i, uuid=(
                "3333333%d-2222-3333-4444-555555555555" % i))).create()
        errors = []

        def client(n):
            try:
                k = e.open(ro=n % 2 == 1)
                for _ in range(30):
                    doms = k.listAllDomains(0)
                    if sorted(d.name() for d in doms) != [
                            "Domain-0", "d0", "d1", "d2", "d3"]:
                        errors.append("client %d saw %r" % (n, doms))
                    for d in doms:
                        if d.info()[0] != lv.libvirt.VIR_DOMAIN_RUNNING:
                            errors.append("%s not running" % d.name())
                k.close()
            except Exception as ex:  # noqa: BLE001 (reported below)
                errors.append("client %d: %r" % (n, ex))
        threads = [threading.Thread(target=client, args=(n,))
                   for n in range(32)]
        for t in threads:
            t.start()
        for _ in range(3):
            kd.eq(len(lv.list_rows(e.virsh("list"))), 5, "virsh list")
        for t in threads:
            t.join(120)
        kd.eq(errors, [], "what the clients saw")
        c.close()
