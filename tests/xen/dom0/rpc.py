#!/usr/bin/python3
# rpc.py SOCKET METHOD [PARAMS-JSON]: one JSON-RPC call to keeld, for what
# keel(1) has no command for. Prints the result as JSON; when it names a
# job, follows the job's notifications to job.done and prints that
# instead, exiting 1 unless the job's state is "done". Exit 1 also on an
# error reply (printed on stderr), 2 on a usage mistake.
import json
import socket
import sys

if len(sys.argv) not in (3, 4):
    sys.exit("usage: rpc.py SOCKET METHOD [PARAMS-JSON]")
req = {"jsonrpc": "2.0", "id": 1, "method": sys.argv[2]}
if len(sys.argv) == 4:
    req["params"] = json.loads(sys.argv[3])
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write(json.dumps(req) + "\n")
f.flush()
job = None
for line in f:
    msg = json.loads(line)
    if msg.get("id") == 1:
        if "error" in msg:
            print(json.dumps(msg["error"]), file=sys.stderr)
            sys.exit(1)
        res = msg.get("result")
        if not (isinstance(res, dict) and "job" in res):
            print(json.dumps(res))
            sys.exit(0)
        job = res["job"]
    elif msg.get("method") == "job.done" and msg["params"].get("job") == job:
        p = msg["params"]
        print(json.dumps(p))
        if p.get("state") != "done":
            print(p.get("error") or "job ended: %s" % p.get("state"), file=sys.stderr)
            sys.exit(1)
        sys.exit(0)
sys.exit("keeld closed the connection")
