#!/usr/bin/python3
"""bench-libvirt.py: keeld's libvirt endpoint against libvirtd, side by side

Usage: bench-libvirt.py KEELD [--calls N] [--runs N]

Starts, in one run and on private sockets, keeld (sim backend, a
temporary directory) and Debian's libvirtd with only its built-in test
driver (LIBVIRT_DRIVER_DIR pointing at an empty directory, its own
config and socket directory), each holding two running domains. Then the
same python3-libvirt client measures, against each: the round trip of
dom.info() and of listAllDomains() (N calls each, one connection; the
median and the mean), and the wall time of `virsh list --all` (the
median of runs). Prints the figures and the ratios keeld/libvirtd (below
1: keeld is faster). Nothing is asserted: this is `make bench`, not a
test. Debian's /usr/bin/python3 runs it, for python3-libvirt.
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import libvirt
except ImportError:
    print("bench-libvirt: SKIP: no python3-libvirt (apt-get install "
          "python3-libvirt)")
    sys.exit(0)

KEEL_XML = """<domain type='xen'>
  <name>bench</name>
  <memory unit='KiB'>262144</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type>
  <kernel>/boot/vmlinuz</kernel></os>
</domain>"""

TEST_XML = """<domain type='test'>
  <name>bench</name>
  <memory unit='KiB'>262144</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>"""

LIBVIRTD_CONF = """unix_sock_dir = "%s"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 0
log_outputs = "2:stderr"
"""


def wait_for(path, proc, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("bench-libvirt: %s did not start (see %s)" % (
                what, os.path.dirname(path)))
        time.sleep(0.02)


def start_keeld(keeld, d):
    os.makedirs(d)
    log = open(os.path.join(d, "keeld.log"), "ab")
    p = subprocess.Popen([keeld, "--backend", "sim", "--state-dir",
                          os.path.join(d, "state"), "--run-dir",
                          os.path.join(d, "run"), "--foreground",
                          "--log-level", "warn",
                          "--sim-host", "cpus=8,memory=16G"],
                         stdout=log, stderr=subprocess.STDOUT)
    sock = os.path.join(d, "run", "libvirt-sock")
    wait_for(sock, p, "keeld")
    return p, "xen+unix:///system?socket=" + sock


def start_libvirtd(d):
    os.makedirs(d)
    drivers = os.path.join(d, "no-drivers")
    socks = os.path.join(d, "sock")
    os.makedirs(drivers)
    os.makedirs(socks)
    conf = os.path.join(d, "libvirtd.conf")
    with open(conf, "w") as f:
        f.write(LIBVIRTD_CONF % socks)
    log = open(os.path.join(d, "libvirtd.log"), "ab")
    env = dict(os.environ, LIBVIRT_DRIVER_DIR=drivers)
    p = subprocess.Popen(["libvirtd", "--config", conf, "--pid-file",
                          os.path.join(d, "libvirtd.pid")],
                         stdout=log, stderr=subprocess.STDOUT, env=env)
    sock = os.path.join(socks, "libvirt-sock")
    wait_for(sock, p, "libvirtd")
    return p, "test+unix:///default?socket=" + sock


def per_call(fn, n):
    """(median, mean) seconds per call of fn over n calls."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.fmean(times)


def virsh_list(uri, runs):
    times = []
    env = dict(os.environ, LC_ALL="C")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["virsh", "-c", uri, "list", "--all"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(uri, xml, calls, runs):
    c = libvirt.open(uri)
    d = c.defineXML(xml)
    d.create()
    n = len(c.listAllDomains(0))
    for _ in range(50):  # warm up
        d.info()
    out = {"domains": n,
           "info": per_call(d.info, calls),
           "list": per_call(lambda: c.listAllDomains(0), calls),
           "virsh": virsh_list(uri, runs)}
    c.close()
    return out


def main(argv):
    if len(argv) < 1:
        print(__doc__)
        return 2
    keeld = argv[0]
    calls = int(argv[argv.index("--calls") + 1]) if "--calls" in argv else 2000
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 20
    if not shutil.which("libvirtd") or not shutil.which("virsh"):
        print("bench-libvirt: SKIP: needs libvirtd (libvirt-daemon) and "
              "virsh (libvirt-clients)")
        return 0
    d = tempfile.mkdtemp(prefix="bench-libvirt-")
    procs = []
    try:
        kp, kuri = start_keeld(keeld, os.path.join(d, "keeld"))
        procs.append(kp)
        lp, luri = start_libvirtd(os.path.join(d, "libvirtd"))
        procs.append(lp)
        k = measure(kuri, KEEL_XML, calls, runs)
        p = measure(luri, TEST_XML, calls, runs)
    finally:
        for pr in procs:
            pr.send_signal(signal.SIGTERM)
            try:
                pr.wait(20)
            except subprocess.TimeoutExpired:
                pr.kill()
        shutil.rmtree(d, ignore_errors=True)
    us = 1e6
    print("bench-libvirt: python3-libvirt %s, %d calls each, virsh median of "
          "%d runs; %d domains listed by each" % (
              libvirt.getVersion(), calls, runs, k["domains"]))
    print("%-28s %12s %12s %8s" % ("", "keeld", "libvirtd", "ratio"))
    for key, label in (("info", "dom.info() median"),
                       ("list", "listAllDomains() median")):
        print("%-28s %9.1f us %9.1f us %8.2f" % (
            label, k[key][0] * us, p[key][0] * us, k[key][0] / p[key][0]))
        print("%-28s %9.1f us %9.1f us %8.2f" % (
            label.replace("median", "mean"), k[key][1] * us, p[key][1] * us,
            k[key][1] / p[key][1]))
    print("%-28s %9.1f ms %9.1f ms %8.2f" % (
        "virsh list --all (wall)", k["virsh"] * 1e3, p["virsh"] * 1e3,
        k["virsh"] / p["virsh"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
