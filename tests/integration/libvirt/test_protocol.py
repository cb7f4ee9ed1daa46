"""test_protocol.py: the wire by hand: what stock clients never send
(unknown procedures and programs, calls before open, read-only changes,
keepalive) and malformed, truncated and oversized packets. keeld answers
with an error or closes that connection, and goes on serving others."""
import os
import random
import struct

import kd
import lv


def still_serves(e):
    w = lv.Wire(e.lv_sock())
    w.open()
    st, p = w.call(3)  # CONNECT_GET_TYPE
    kd.eq((st, p), (lv.OK, lv.xdr_string("Xen")), "GET_TYPE on a new client")
    w.close()


def test_handshake_and_errors():
    with lv.Env() as e:
        w = lv.Wire(e.lv_sock())
        st, p = w.call(66)  # AUTH_LIST
        kd.eq((st, p), (lv.OK, struct.pack(">Ii", 1, 0)), "AUTH_LIST: [NONE]")
        st, p = w.call(17, lv.xdr_domain("x", lv.DEMO_UUID))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_CONNECT),
              "a call before CONNECT_OPEN")
        st, p = w.call(1, struct.pack(">I", 1) + lv.xdr_string("qemu:///system")
                       + struct.pack(">I", 0))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_CONNECT),
              "CONNECT_OPEN of another driver's URI")
        w.open()
        st, p = w.call(9999)
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_SUPPORT),
              "an unknown procedure")
        st, p = w.call(162)  # CONNECT_BASELINE_CPU: not served
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_SUPPORT),
              "a procedure keeld does not serve")
        st, p = w.call(23, lv.xdr_string("nope"))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_DOMAIN),
              "LOOKUP_BY_NAME of an unknown domain")
        st, p = w.call(316, struct.pack(">iI", 5, 0))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_SUPPORT),
              "registering a non-lifecycle event")
        st, p = w.call(317, struct.pack(">i", 77))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_INVALID_ARG),
              "deregistering an unknown callback")
        w.serial += 1
        w.send(lv.packet(3, w.serial, prog=0x20008087))
        h, p = w.read()
        kd.eq((h[0], h[4], h[5], lv.error_code(p)),
              (0x20008087, w.serial, lv.ERROR, lv.ERR_RPC), "another program")
        # a PING gets its PONG, a PONG nothing
        w.send(lv.packet(2, 0, prog=lv.KEEPALIVE, type=lv.MESSAGE))
        w.send(lv.packet(1, 0, prog=lv.KEEPALIVE, type=lv.MESSAGE))
        h, p = w.read()
        kd.eq((h[0], h[2], h[3], p), (lv.KEEPALIVE, 2, lv.MESSAGE, b""),
              "PONG")
        st, _ = w.call(3)
        kd.eq(st, lv.OK, "the connection goes on")
        w.close()


def test_read_only_refused():
    """Every change on the -ro socket (or a read-only open) is refused by
    keeld itself, whatever the client library checks."""
    with lv.Env() as e:
        e.define()
        dom = lv.xdr_domain("demo", lv.DEMO_UUID)
        changes = [(11, lv.xdr_string(lv.domain_xml("x"))),
                   (350, lv.xdr_string(lv.domain_xml("x")) + b"\0" * 4),
                   (10, lv.xdr_string(lv.domain_xml("x")) + b"\0" * 4),
                   (9, dom), (196, dom + b"\0" * 4), (12, dom), (33, dom),
                   (27, dom + b"\0" * 4), (34, dom), (28, dom), (35, dom),
                   (231, dom + b"\0" * 4), (31, dom + b"\0" * 8),
                   (204, dom + b"\0" * 12), (29, dom + b"\0" * 4)]
        for sock, flags in ((e.lv_sock(True), 0), (e.lv_sock(), 1)):
            w = lv.Wire(sock)
            w.open(flags=flags)
            for proc, args in changes:
                st, p = w.call(proc, args)
                kd.eq((st, lv.error_code(p)),
                      (lv.ERROR, lv.ERR_OPERATION_DENIED),
                      "procedure %d read-only" % proc)
            st, p = w.call(212, dom + b"\0" * 4)
            kd.eq((st, p), (lv.OK, struct.pack(">ii", 5, 0)),
                  "GET_STATE read-only")
            w.close()
        kd.eq(e.state("demo"), "shut off", "nothing changed")


def test_malformed_payloads():
    with lv.Env() as e:
        e.define()
        w = lv.Wire(e.lv_sock())
        w.open()
        dom = lv.xdr_domain("demo", lv.DEMO_UUID)
        bad = [
            (16, dom[:-1]),                      # truncated domain
            (16, dom + b"\0\0\0\0"),             # trailing bytes
            (23, struct.pack(">I", 0xFFFFFFF0)),  # string longer than sent
            (23, struct.pack(">I", 8) + b"de\0mo\0\0\0"),  # a NUL inside
            (316, struct.pack(">iI", 0, 7)),     # optional flag not 0/1
            (24, b"\1" * 15),                    # short uuid
            (20, dom + struct.pack(">ii", 1 << 30, 1 << 30)),  # huge maps
        ]
        for proc, args in bad:
            st, p = w.call(proc, args)
            kd.eq(st, lv.ERROR, "procedure %d with %r" % (proc, args[:16]))
            kd.check(lv.error_code(p) in (lv.ERR_RPC, lv.ERR_INVALID_ARG),
                     "error code %r" % lv.error_code(p))
        st, _ = w.call(16, dom)
        kd.eq(st, lv.OK, "GET_INFO after the bad calls")
        w.close()


def test_bad_framing_closes():
    with lv.Env(args=["--max-message", "65536"]) as e:
        cases = [struct.pack(">I", 4),                 # shorter than a header
                 struct.pack(">I", 27) + b"\0" * 23,
                 struct.pack(">I", 0xFFFFFFFF),        # 4 GiB
                 struct.pack(">I", 65536 + 29)]        # over --max-message
        for data in cases:
            w = lv.Wire(e.lv_sock())
            w.send(data + b"\0" * 64)
            kd.check(w.closed(), "keeld closes after %r" % data[:8])
            w.close()
        # a truncated packet, then the client goes away
        w = lv.Wire(e.lv_sock())
        w.send(lv.packet(66)[:20])
        w.close()
        # a whole packet of the largest size allowed is answered
        w = lv.Wire(e.lv_sock())
        w.open()
        st, p = w.call(23, lv.xdr_string("x" * 65000))
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_DOMAIN),
              "a large name")
        w.close()
        still_serves(e)


def test_garbage():
    """Random packets (seeded: the run can be repeated) never crash keeld
    nor stall it for other clients."""
    rnd = random.Random(int(os.environ.get("KEEL_TEST_SEED", "9")))
    with lv.Env() as e:
        e.define()
        for i in range(200):
            w = lv.Wire(e.lv_sock(rnd.random() < 0.3))
            if rnd.random() < 0.7:
                w.open()
            proc = rnd.choice([1, 9, 11, 12, 14, 16, 20, 22, 23, 24, 60, 66,
                               204, 212, 230, 273, 293, 316, 317, 350,
                               rnd.randrange(-5, 500)])
            payload = bytes(rnd.randrange(256) for _ in range(
                rnd.randrange(0, 80)))
            if rnd.random() < 0.5:
                payload = lv.xdr_domain("demo", lv.DEMO_UUID) + payload[:8]
            data = lv.packet(proc, i, payload,
                             type=rnd.choice([0, 0, 0, 1, 2, 3, 4, 9]),
                             status=rnd.choice([0, 0, 0, 1, 2]))
            if rnd.random() < 0.2:
                data = data[:rnd.randrange(len(data))]
            try:
                w.send(data)
            except OSError:
                pass
            w.close()
        still_serves(e)
        kd.check(e.alive(), "keeld is alive")


def test_domain_found_by_uuid():
    """The id and name a client sends are hints: a stale id (another
    domain's, after a reboot) or a stale name still finds the uuid's
    domain, and an unknown uuid is NO_DOMAIN whatever the id says."""
    with lv.Env() as e:
        e.define()
        e.virsh("start", "demo")
        w = lv.Wire(e.lv_sock())
        w.open()
        for name, id in (("demo", 0), ("Domain-0", 0), ("old", 12345)):
            st, p = w.call(19, lv.xdr_domain(name, lv.DEMO_UUID, id))
            kd.eq((st, p), (lv.OK, lv.xdr_string("xen")),
                  "GET_OS_TYPE of demo sent as %s/%d" % (name, id))
            st, p = w.call(212, lv.xdr_domain(name, lv.DEMO_UUID, id) +
                           b"\0" * 4)
            kd.eq((st, p), (lv.OK, struct.pack(">ii", 1, 1)),
                  "GET_STATE of demo sent as %s/%d: running, booted" % (
                      name, id))
        st, p = w.call(212, lv.xdr_domain(
            "Domain-0", "99999999-0000-0000-0000-000000000000", 0) + b"\0" * 4)
        kd.eq((st, lv.error_code(p)), (lv.ERROR, lv.ERR_NO_DOMAIN),
              "an unknown uuid with Domain-0's id")
        w.close()
