"""lv.py: the harness of the libvirt endpoint's tests

Env starts a keeld (tests/integration/keeld/kd.py's Keeld, sim backend,
on a temporary directory) that also serves virtxend-sock in a private
--libvirt-sock-dir, and drives it with Debian's own clients: virsh
(libvirt-clients) through virsh(), python3-libvirt through open().
Packet helpers speak the wire protocol by hand for the malformed-input
tests. Every wait has a timeout.
"""
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "keeld"))

import kd  # noqa: E402

try:
    import libvirt  # noqa: E402
except ImportError:
    libvirt = None

PROGRAM = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1

# libvirt's error codes (virterror.h)
ERR_NO_SUPPORT = 3
ERR_NO_CONNECT = 5
ERR_INVALID_ARG = 8
ERR_XML_ERROR = 27
ERR_OPERATION_DENIED = 29
ERR_RPC = 39
ERR_NO_DOMAIN = 42
ERR_OPERATION_INVALID = 55

DEMO_UUID = "11111111-2222-3333-4444-555555555555"


def domain_xml(name="demo", uuid=DEMO_UUID, memory_kb=262144, vcpus=2,
               os_type="linux"):
    return """<domain type='xen'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='KiB'>%d</memory>
  <currentMemory unit='KiB'>%d</currentMemory>
  <vcpu placement='static'>%d</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>%s</type>
    <kernel>/boot/vmlinuz</kernel>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
</domain>
""" % (name, uuid, memory_kb, memory_kb, vcpus, os_type)


def need_virsh():
    try:
        subprocess.run(["virsh", "--version"], capture_output=True,
                       timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        raise kd.Skip("no virsh (apt-get install libvirt-clients)")


def need_python_libvirt():
    if libvirt is None:
        raise kd.Skip("no python3-libvirt for %s" % sys.executable)


class VirshError(Exception):
    def __init__(self, argv, rc, out, err):
        Exception.__init__(self, "%s exited %d: %s" % (" ".join(argv), rc,
                                                         err.strip()))
        self.rc = rc
        self.out = out
        self.err = err


class Env(kd.Keeld):
    """A keeld whose libvirt sockets the tests use."""

    def __init__(self, **kw):
        kd.Keeld.__init__(self, start=False, **kw)
        self.lv_dir = os.path.join(self.dir, "libvirt")
        self.args += ["--libvirt-sock-dir", self.lv_dir]
        try:
            self.start()
            kd.wait_until(lambda: os.path.exists(self.lv_sock(True)),
                          what="the libvirt sockets")
        except BaseException:
            self.close()
            raise

    def lv_sock(self, ro=False):
        return os.path.join(self.run_dir,
                            "libvirt-sock-ro" if ro else "libvirt-sock")

    def uri(self, ro=False, sock=None):
        return "xen+unix:///system?socket=%s" % (sock or self.lv_sock(ro))

    def virsh(self, *args, ro=False, check=True, timeout=60):
        argv = ["virsh", "-q", "-c", self.uri(ro)] + list(args)
        env = dict(os.environ, HOME=self.dir, LC_ALL="C")
        env.pop("LIBVIRT_DEFAULT_URI", None)
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=self.dir)
        if check and p.returncode != 0:
            raise VirshError(argv, p.returncode, p.stdout, p.stderr)
        return p if not check else p.stdout

    def virsh_fails(self, *args, ro=False):
        """Runs virsh expecting it to fail; returns its stderr."""
        p = self.virsh(*args, ro=ro, check=False)
        kd.check(p.returncode != 0, "virsh %s should fail; it printed %r" % (
            " ".join(args), p.stdout))
        return p.stderr

    def define(self, xml=None, name="demo"):
        path = os.path.join(self.dir, name + ".xml")
        with open(path, "w") as f:
            f.write(xml or domain_xml(name))
        self.virsh("define", path)
        return True

    def open(self, ro=False):
        need_python_libvirt()
        if ro:
            return libvirt.openReadOnly(self.uri(ro=True))
        return libvirt.open(self.uri())

    def state(self, name):
        return self.virsh("domstate", name).strip()

    def wait_state(self, name, state, timeout=kd.REQUEST_TIMEOUT):
        return kd.wait_until(lambda: self.state(name) == state, timeout,
                             what="%s to be %s" % (name, state))


def dominfo(text):
    """virsh dominfo's output as a dict."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def list_rows(text):
    """virsh list's rows (-q) as (id, name, state)."""
    rows = []
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3:
            rows.append((parts[0], parts[1], parts[2].strip()))
    return rows


# --- the wire, by hand ---------------------------------------------------------


def packet(proc, serial=0, payload=b"", prog=PROGRAM, vers=1, type=CALL,
           status=OK):
    body = struct.pack(">IIiiIi", prog, vers, proc, type, serial, status)
    body += payload
    return struct.pack(">I", len(body) + 4) + body


def xdr_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def xdr_domain(name, uuid_hex, id=-1):
    return xdr_string(name) + bytes.fromhex(uuid_hex.replace("-", "")) + \
        struct.pack(">i", id)


class Wire:
    """A raw connection to a libvirt socket."""

    def __init__(self, path, timeout=kd.REQUEST_TIMEOUT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.serial = 0

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise kd.ConnectionClosed("closed after %d of %d bytes" % (
                    len(buf), n))
            buf += chunk
        return buf

    def read(self):
        """The next packet: (header tuple, payload)."""
        n = struct.unpack(">I", self.recv_exact(4))[0]
        body = self.recv_exact(n - 4)
        return struct.unpack(">IIiiIi", body[:24]), body[24:]

    def call(self, proc, payload=b""):
        """(status, payload) of a call's reply."""
        self.serial += 1
        self.send(packet(proc, self.serial, payload))
        while True:
            h, p = self.read()
            if h[3] == REPLY and h[4] == self.serial:
                kd.eq(h[2], proc, "the reply's procedure")
                return h[5], p

    def open(self, uri="xen:///system", flags=0):
        st, p = self.call(1, struct.pack(">I", 1) + xdr_string(uri) +
                          struct.pack(">I", flags))
        kd.eq(st, OK, "CONNECT_OPEN's status (error %r)" % error_code(p))

    def closed(self, timeout=5):
        """Whether keeld closed the connection."""
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True


def error_code(payload):
    """A remote_error's code."""
    return struct.unpack(">i", payload[:4])[0] if len(payload) >= 4 else None
