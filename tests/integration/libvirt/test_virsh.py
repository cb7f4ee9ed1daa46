"""test_virsh.py: Debian's virsh (libvirt-clients) against keeld, no
libvirtd: host commands, a domain's whole life, events, errors."""
import os
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import kd
import lv


def test_host_commands():
    lv.need_virsh()
    with lv.Env() as e:
        out = e.virsh("version")
        kd.check("Using API: Xen 9.0.0" in out, "version: %r" % out)
        kd.check("Running hypervisor: Xen 4.17.0" in out, "version: %r" % out)
        info = lv.dominfo(e.virsh("nodeinfo"))
        kd.eq(info["CPU model"], "x86_64", "nodeinfo CPU model")
        kd.eq(info["CPU(s)"], "8", "nodeinfo CPUs (--sim-host cpus=8)")
        kd.eq(info["Memory size"], "16777216 KiB", "nodeinfo memory (16G)")
        kd.eq(e.virsh("hostname").strip(), socket.gethostname(), "hostname")
        kd.eq(e.virsh("uri").strip(), e.uri(), "uri")
        caps = ET.fromstring(e.virsh("capabilities"))
        kd.eq(caps.findtext("host/cpu/arch"), "x86_64", "host arch")
        kinds = sorted((g.findtext("os_type"), g.findtext("arch/machine"),
                        g.find("arch/domain").get("type"))
                       for g in caps.findall("guest"))
        kd.eq(kinds, [("hvm", "xenfv", "xen"), ("xen", "xenpv", "xen"),
                      ("xenpvh", "xenpvh", "xen")], "capabilities' guests")


def test_domain_life():
    lv.need_virsh()
    with lv.Env() as e:
        e.define()
        kd.eq(lv.list_rows(e.virsh("list", "--all")),
              [("0", "Domain-0", "running"), ("-", "demo", "shut off")],
              "list --all after define")
        kd.eq(lv.list_rows(e.virsh("list")), [("0", "Domain-0", "running")],
              "list (active only)")
        info = lv.dominfo(e.virsh("dominfo", "demo"))
        kd.eq((info["State"], info["Persistent"], info["Max memory"],
               info["CPU(s)"], info["UUID"], info["OS Type"]),
              ("shut off", "yes", "262144 KiB", "2", lv.DEMO_UUID, "xen"),
              "dominfo of the definition")
        e.virsh("start", "demo")
        kd.eq(e.state("demo"), "running", "domstate after start")
        rows = lv.list_rows(e.virsh("list"))
        kd.eq([r[1:] for r in rows], [("Domain-0", "running"),
                                      ("demo", "running")], "list")
        domid = rows[1][0]
        kd.eq(lv.dominfo(e.virsh("dominfo", domid))["Name"], "demo",
              "dominfo by id")
        kd.eq(lv.dominfo(e.virsh("dominfo", lv.DEMO_UUID))["Id"], domid,
              "dominfo by uuid")
        e.virsh("suspend", "demo")
        kd.eq(e.state("demo"), "paused", "domstate after suspend")
        e.virsh("resume", "demo")
        kd.eq(e.state("demo"), "running", "domstate after resume")
        e.virsh("setmem", "demo", "131072")
        kd.eq(lv.dominfo(e.virsh("dominfo", "demo"))["Used memory"],
              "131072 KiB", "used memory after setmem")
        vcpus = [lv.dominfo(b) for b in e.virsh("vcpuinfo", "demo").split(
            "\n\n") if b.strip()]
        kd.eq([v["VCPU"] for v in vcpus], ["0", "1"], "vcpuinfo's vCPUs")
        kd.eq({v["State"] for v in vcpus}, {"running"}, "vcpuinfo's states")
        kd.eq({v["CPU Affinity"] for v in vcpus}, {"y" * 8}, "affinity")
        x = ET.fromstring(e.virsh("dumpxml", "demo"))
        kd.eq((x.get("type"), x.findtext("name"), x.findtext("uuid"),
               x.findtext("currentMemory"), x.findtext("vcpu")),
              ("xen", "demo", lv.DEMO_UUID, "131072", "2"), "dumpxml")
        xi = ET.fromstring(e.virsh("dumpxml", "--inactive", "demo"))
        kd.eq(xi.findtext("currentMemory"), "262144", "dumpxml --inactive")
        e.virsh("reboot", "demo")
        kd.wait_until(lambda: lv.list_rows(e.virsh("list"))[1:] and
                      lv.list_rows(e.virsh("list"))[1][0] != domid,
                      what="demo to come back with a new id")
        kd.eq(e.state("demo"), "running", "domstate after reboot")
        e.virsh("shutdown", "demo")
        e.wait_state("demo", "shut off")
        e.virsh("start", "demo")
        e.virsh("destroy", "demo")
        kd.eq(e.state("demo"), "shut off", "domstate after destroy")
        e.virsh("undefine", "demo")
        kd.eq(lv.list_rows(e.virsh("list", "--all")),
              [("0", "Domain-0", "running")], "list --all after undefine")
        err = e.virsh_fails("dominfo", "demo")
        kd.check("failed to get domain 'demo'" in err, "dominfo: %r" % err)


def test_errors():
    lv.need_virsh()
    with lv.Env() as e:
        err = e.virsh_fails("dominfo", "nope")
        kd.check("failed to get domain 'nope'" in err, err)
        e.define()
        err = e.virsh_fails("destroy", "demo")
        kd.check("Requested operation is not valid" in err and
                 "not running" in err, "destroy of shut off: %r" % err)
        err = e.virsh_fails("suspend", "demo")
        kd.check("not running" in err, "suspend of shut off: %r" % err)
        e.virsh("start", "demo")
        err = e.virsh_fails("start", "demo")
        kd.check("already active" in err, "start of running: %r" % err)
        bad = os.path.join(e.dir, "bad.xml")
        with open(bad, "w") as f:
            f.write("<domain type='xen'><name>x</name><memory>12</oops>")
        err = e.virsh_fails("define", bad)
        kd.check("Failed to define domain" in err, "bad XML: %r" % err)
        with open(bad, "w") as f:
            f.write(lv.domain_xml("kvmish").replace("type='xen'",
                                                     "type='kvm'"))
        err = e.virsh_fails("define", bad)
        kd.check("only xen" in err, "a kvm domain: %r" % err)
        kd.check("kvmish" not in e.virsh("list", "--all", "--name"),
                 "a refused definition is not listed")
        # the read-only socket shows, and changes nothing
        kd.check("demo" in e.virsh("list", "--all", "--name", ro=True),
                 "read-only list")
        for args in (("destroy", "demo"), ("suspend", "demo"),
                     ("setmem", "demo", "65536"), ("undefine", "demo")):
            err = e.virsh_fails(*args, ro=True)
            kd.check("read only" in err or "read-only" in err,
                     "read-only %s: %r" % (args[0], err))
        kd.eq(e.state("demo"), "running", "demo after the read-only attempts")


def test_events():
    lv.need_virsh()
    with lv.Env() as e:
        argv = ["virsh", "-c", e.uri(), "event", "--loop", "--event",
                "lifecycle", "--timeout", "120"]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, HOME=e.dir, LC_ALL="C"))
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(
            iter(p.stdout.readline, "")), daemon=True)
        reader.start()
        try:
            # the registration is in place once a define is seen
            kd.wait_until(lambda: e.define(lv.domain_xml("probe", uuid=(
                "99999999-2222-3333-4444-555555555555"))) and
                any("probe" in l for l in lines), what="virsh event ready")
            e.define()
            e.virsh("start", "demo")
            e.virsh("suspend", "demo")
            e.virsh("resume", "demo")
            e.virsh("shutdown", "demo")
            e.wait_state("demo", "shut off")
            e.virsh("start", "demo")
            e.virsh("destroy", "demo")
            e.virsh("undefine", "demo")
            want = ["Defined Added", "Started Booted", "Suspended Paused",
                    "Resumed Unpaused", "Stopped Shutdown", "Started Booted",
                    "Stopped Destroyed", "Undefined Removed"]
            prefix = "event 'lifecycle' for domain 'demo': "

            def got():
                return [l.strip()[len(prefix):] for l in lines
                        if l.startswith(prefix)]
            kd.wait_until(lambda: len(got()) >= len(want),
                          what="the events (got %r)" % got())
            time.sleep(0.3)  # nothing more may come
            kd.eq(got(), want, "virsh event's lifecycle events")
        finally:
            p.terminate()
            p.wait(30)


def test_crash_event():
    lv.need_virsh()
    with lv.Env() as e:
        e.define()
        e.virsh("start", "demo")
        argv = ["virsh", "-c", e.uri(), "event", "--loop", "--event",
                "lifecycle", "--timeout", "60"]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, HOME=e.dir, LC_ALL="C"))
        lines = []
        threading.Thread(target=lambda: lines.extend(
            iter(p.stdout.readline, "")), daemon=True).start()
        try:
            kd.wait_until(lambda: e.virsh("suspend", "demo") is not None and
                          e.virsh("resume", "demo") is not None and
                          any("Resumed" in l for l in lines),
                          what="virsh event ready")
            e.connect().call("sim.guest_act", {"domain": "demo",
                                               "reason": "crash"})
            kd.wait_until(lambda: any("Stopped Crashed" in l for l in lines),
                          what="a crash event (got %r)" % lines)
            e.wait_state("demo", "shut off")  # on_crash destroy
        finally:
            p.terminate()
            p.wait(30)


def test_virtxend_socket():
    """--libvirt-sock-dir: the socket a plain xen:///system looks for."""
    lv.need_virsh()
    with lv.Env() as e:
        for name, mode in (("virtxend-sock", 0o600),
                           ("virtxend-sock-ro", 0o666)):
            st = os.stat(os.path.join(e.lv_dir, name))
            kd.eq(st.st_mode & 0o777, mode, "mode of %s" % name)
        e.define()
        env = dict(os.environ, HOME=e.dir, LC_ALL="C")
        out = subprocess.run(
            ["virsh", "-q", "-c", e.uri(sock=os.path.join(
                e.lv_dir, "virtxend-sock")), "list", "--all", "--name"],
            capture_output=True, text=True, env=env, timeout=60).stdout
        kd.eq(out.split(), ["Domain-0", "demo"], "list on virtxend-sock")
        e.stop(sig=15)
        kd.check(not os.path.exists(os.path.join(e.lv_dir, "virtxend-sock")),
                 "keeld removes its sockets when it stops")
