#!/usr/bin/env python3
"""run.py: runs the libvirt endpoint's tests (tests/integration/libvirt/)
with keeld's runner (tests/integration/keeld/run.py: -k NAME, --list,
-x). Needs virsh (libvirt-clients) and python3-libvirt; a test whose
client is missing is skipped."""
import os
import sys

sys.dont_write_bytecode = True  # never litter the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "keeld"))

import run  # noqa: E402

MODULES = ["test_protocol", "test_virsh", "test_python"]

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:], MODULES))
