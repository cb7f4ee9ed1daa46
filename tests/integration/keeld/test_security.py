"""Security: keeld.sock is 0600 (0660 and the group with --sock-group),
keeld-ro.sock 0666; changes are logged with the peer's pid."""
import fcntl
import grp
import os
import socket
import subprocess
import re
import stat

import kd
from kd import check, eq


def mode(path):
    st = os.stat(path)
    check(stat.S_ISSOCK(st.st_mode), "%s is not a socket" % path)
    return stat.S_IMODE(st.st_mode), st.st_gid


def test_socket_modes():
    k = kd.shared()
    m, _ = mode(k.sock)
    eq(oct(m), oct(0o600), "mode of keeld.sock")
    m, _ = mode(k.ro_sock)
    eq(oct(m), oct(0o666), "mode of keeld-ro.sock")


def test_sock_group():
    group = kd.primary_group()
    gid = grp.getgrnam(group).gr_gid
    with kd.Keeld(args=["--sock-group", group]) as k:
        m, g = mode(k.sock)
        eq(oct(m), oct(0o660), "mode of keeld.sock with --sock-group %s" % group)
        eq(g, gid, "group of keeld.sock with --sock-group %s" % group)
        m, _ = mode(k.ro_sock)
        eq(oct(m), oct(0o666), "mode of keeld-ro.sock with --sock-group")
        k.connect().call("version")


def test_unknown_sock_group_refused():
    k = kd.Keeld(args=["--sock-group", "no-such-group-keeld-test"], start=False)
    try:
        os.makedirs(k.state_dir)
        os.makedirs(k.run_dir)
        p = k.spawn()
        try:
            rc = p.wait(kd.START_TIMEOUT)
        except Exception:
            p.kill()
            p.wait()
            raise kd.TestFailure("keeld with an unknown --sock-group kept running")
        check(rc != 0, "keeld with an unknown --sock-group exited 0")
        check("no-such-group-keeld-test" in k.log_text(),
              "keeld's message does not name the unknown group: %r" % k.log_text()[-300:])
    finally:
        k.close()


def test_changes_logged_with_peer():
    k = kd.Keeld(args=["--log-level", "info"])
    try:
        c = k.connect()
        kd.create(c, "logged")
        c.call("domain.pause", {"domain": "logged"})
        c.close()
        pid = os.getpid()
        text = k.log_text()
        lines = [l for l in text.splitlines() if re.search(r"\b%d\b" % pid, l)]
        check(lines, "keeld's log (--log-level info) never names the client's pid %d:\n%s"
              % (pid, k.log_tail(20)))
        check(any("logged" in l or "pause" in l for l in lines),
              "no log line names both the change and the client's pid %d:\n%s"
              % (pid, "\n".join(lines[:10])))
    finally:
        k.close()


def test_socket_activation():
    """systemd socket activation (keeld.socket): LISTEN_FDS=2 from fd 3,
    keeld.sock first, keeld-ro.sock second; the read-only one is made
    0666 (one .socket unit has one SocketMode)."""
    k = kd.Keeld(start=False)
    socks = []
    try:
        os.makedirs(k.state_dir)
        os.makedirs(k.run_dir)
        for path in (k.sock, k.ro_sock):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            os.chmod(path, 0o600)
            s.listen(16)
            socks.append(s)
        # out of the way of 3 and 4, which the shell's redirections make
        fds = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 20) for s in socks]
        script = ('LISTEN_PID=$$ LISTEN_FDS=2; export LISTEN_PID LISTEN_FDS; '
                  'exec "$@" 3<&%d 4<&%d %d<&- %d<&-' % (fds[0], fds[1], fds[0], fds[1]))
        log = open(k.log_path, "ab")
        k.proc = subprocess.Popen(["bash", "-c", script, "bash"] + k.argv(),
                                  stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, pass_fds=fds, cwd=k.dir)
        log.close()
        for s in socks:
            s.close()  # keeld has them now
        for fd in fds:
            os.close(fd)
        k.wait_ready()
        c = k.connect()
        kd.create(c, "act")
        ro = k.connect(ro=True)
        eq(ro.error("domain.destroy", {"domain": "act"}).code, kd.EREADONLY,
           "the second activated socket is the read-only one")
        eq(ro.call("domain.info", {"domain": "act"})["name"], "act", "read on the ro socket")
        m, _ = mode(k.ro_sock)
        eq(oct(m), oct(0o666), "mode of an activated keeld-ro.sock")
        m, _ = mode(k.sock)
        eq(oct(m), oct(0o600), "mode of an activated keeld.sock")
        eq(k.term(), 0, "exit status after SIGTERM")
        # systemd owns activated sockets: unlinking them would leave
        # keeld.socket listening where no client can reach it
        for path in (k.sock, k.ro_sock):
            check(os.path.exists(path), "keeld removed the activated socket %s on exit"
                  % os.path.basename(path))
    finally:
        for s in socks:
            s.close()
        k.close()


def test_socket_activation_bad_fds():
    """LISTEN_FDS names fds that are not listening sockets: keeld says so
    and exits non-zero, cleanly (several times: the failure path races
    with keeld's worker threads)."""
    for _ in range(6):
        one_bad_activation()
        if kd.sanitizer_findings:
            break


def one_bad_activation():
    k = kd.Keeld(start=False)
    try:
        os.makedirs(k.state_dir)
        os.makedirs(k.run_dir)
        # fd 3 a listening socket, fd 4 missing
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(k.sock)
        s.listen(4)
        fd = fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 20)
        log = open(k.log_path, "ab")
        p = subprocess.Popen(["bash", "-c", 'LISTEN_PID=$$ LISTEN_FDS=2; export LISTEN_PID '
                              'LISTEN_FDS; exec "$@" 3<&%d 4<&- %d<&-' % (fd, fd), "bash"]
                             + k.argv(), stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, pass_fds=[fd], cwd=k.dir)
        log.close()
        os.close(fd)
        s.close()
        try:
            rc = p.wait(kd.START_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise kd.TestFailure("keeld with bad activated fds neither served nor exited "
                                 "within %d s:\n%s" % (kd.START_TIMEOUT, k.log_tail(10)))
        check(rc not in (0, None), "keeld with bad activated fds exited %s" % rc)
    finally:
        k.close()
