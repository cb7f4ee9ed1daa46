#!/usr/bin/env python3
"""run.py: runs keeld's integration tests.

Usage: run.py [-k NAME]... [--list] [-x]

Each function named test_* in the test_*.py modules beside this file is a
test (run in the order of the modules below, then of definition). -k runs
only the tests whose "module.function" name contains NAME (several -k:
any of them). Prints one line per test and a summary "N passed, N failed";
exits 0 when all ran passed, 1 when one failed, 77 when keeld is not built
(every test skipped).

Environment: KEELD (the keeld binary; default $top_builddir/daemon/keeld),
KEELD_TEST_OPS (operations per client in the 32-client test),
KEELD_TEST_TIMEOUT (seconds per test, default 300), KEELD_TEST_KEEP=1
(keep the temporary directories), KEELD_TEST_LOG_LEVEL (keeld's
--log-level).
"""
import sys

sys.dont_write_bytecode = True  # never litter the source tree

import importlib  # noqa: E402
import inspect  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kd  # noqa: E402

MODULES = ["test_methods", "test_readonly", "test_events", "test_malformed",
           "test_concurrency", "test_persistence", "test_jobs", "test_security"]


class TestTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise TestTimeout("the test ran longer than its time limit")


def collect(modules=MODULES):
    tests = []
    for m in modules:
        mod = importlib.import_module(m)
        fns = [(inspect.getsourcelines(f)[1], n, f)
               for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.isfunction(f)
               and f.__module__ == mod.__name__]
        for _, n, f in sorted(fns, key=lambda t: t[0]):
            tests.append(("%s.%s" % (m[len("test_"):], n[len("test_"):]), f))
    return tests


def main(argv, modules=MODULES):
    """Runs the tests of modules (importable names); other suites
    (tests/integration/libvirt/) call it with their own."""
    pats = []
    list_only = False
    stop_first = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-k" and i + 1 < len(argv):
            pats.append(argv[i + 1])
            i += 2
            continue
        if a.startswith("-k") and len(a) > 2:
            pats.append(a[2:])
        elif a == "--list":
            list_only = True
        elif a == "-x":
            stop_first = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            print("run.py: unknown argument %r (see --help)" % a, file=sys.stderr)
            return 2
        i += 1
    tests = [(n, f) for n, f in collect(modules)
             if not pats or any(p in n for p in pats)]
    if list_only:
        for n, _ in tests:
            print(n)
        return 0
    if not tests:
        print("run.py: no test matches %s" % pats, file=sys.stderr)
        return 2
    try:
        kd.find_keeld()
    except kd.Skip as e:
        print("SKIP all: %s" % e)
        print("0 passed, 0 failed, %d skipped" % len(tests))
        return 77

    limit = kd.env_int("KEELD_TEST_TIMEOUT", 300)
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = skipped = 0
    failures = []
    t_all = time.monotonic()
    for name, fn in tests:
        t0 = time.monotonic()
        err = None
        skip = None
        signal.alarm(limit)
        try:
            fn()
        except kd.Skip as e:
            skip = str(e)
        except kd.TestFailure as e:
            err = str(e)
        except TestTimeout as e:
            err = "%s (%d s)\n%s" % (e, limit, "".join(traceback.format_exc(limit=-3)))
        except Exception:
            err = traceback.format_exc(limit=-4)
        finally:
            signal.alarm(0)
        # keeld must survive tests that did not kill it, without sanitizer
        # reports.
        sh = kd.shared_running()
        if sh is not None:
            if not sh.alive():
                err = (err + "\n" if err else "") + \
                    "the shared keeld died (status %s):\n%s" % (
                        sh.proc.returncode, sh.sanitizer_report() or sh.log_tail())
                kd.shutdown_shared()
            else:
                rep = sh.sanitizer_report()
                if rep:
                    err = (err + "\n" if err else "") + \
                        "sanitizer report in keeld's log:\n" + rep
                    kd.shutdown_shared()  # the next test gets a fresh one
        if kd.sanitizer_findings:
            err = (err + "\n" if err else "") + \
                "sanitizer report in keeld's log:\n" + "\n".join(kd.sanitizer_findings)
            del kd.sanitizer_findings[:]
        dt = time.monotonic() - t0
        if err:
            failed += 1
            failures.append(name)
            print("FAIL %s (%.1f s)" % (name, dt))
            for line in err.rstrip().splitlines():
                print("     " + line)
        elif skip is not None:
            skipped += 1
            print("SKIP %s: %s" % (name, skip))
        else:
            passed += 1
            print("ok   %s (%.1f s)" % (name, dt))
        sys.stdout.flush()
        if err and stop_first:
            break
    kd.shutdown_shared()
    if kd.sanitizer_findings:
        print("sanitizer report in the shared keeld's log:\n" +
              "\n".join(kd.sanitizer_findings))
        failed += 1
    print("%d passed, %d failed%s (%.0f s)" % (
        passed, failed, ", %d skipped" % skipped if skipped else "",
        time.monotonic() - t_all))
    if failures:
        print("failed: " + " ".join(failures))
    if failed:
        return 1
    if passed == 0 and skipped:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
