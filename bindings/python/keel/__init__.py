"""keel: a Python client of keeld, keel's Xen toolstack daemon.

    import keel

    with keel.Client() as c:                 # $KEEL_SOCKET or /run/keel/keeld.sock
        r = c.domain_create(config_text=open("web.cfg").read())
        for d in c.domain_list():
            print(d["name"], d["domid"], d["state"])

Client has one method per JSON-RPC method of keeld (docs/keeld-api.md),
events() iterates over lifecycle events, wait_job() follows save, restore
and migration jobs. Errors are KeelError subclasses carrying keeld's code,
name and message (NoDomain, WrongState, InvalidParams, ...); an unreachable
keeld is a KeelConnectionError (a ConnectionError). Standard library only.
"""

from .client import Client, EventStream, DEFAULT_SOCKET, default_socket
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all
from .methods import METHODS

__version__ = "0.1.0"

__all__ = ["Client", "EventStream", "DEFAULT_SOCKET", "default_socket",
           "METHODS", "__version__"] + list(_errors_all)
