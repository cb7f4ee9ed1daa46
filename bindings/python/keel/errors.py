"""keel.errors: keeld's errors as Python exceptions.

Every error reply of keeld (docs/keeld-api.md, "Error codes") becomes an
instance of a subclass of KeelError chosen by the error's ``data.name``
(``"KEEL_ENODOMAIN"``, ``"invalid params"``, ...), or by its code when the
name is missing or unknown. The exception carries keeld's ``code``,
``name`` and ``message`` as they came, the ``method`` that failed and, for
a failed job, the ``job`` id.

Connection problems (keeld not running, the connection lost) are not
KeelErrors: they raise KeelConnectionError, a ConnectionError.
"""

import errno as _errno

__all__ = [
    "KeelError", "KeelConnectionError",
    # keeld's own JSON-RPC codes
    "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams",
    "InternalError", "ReadOnly", "NotOnBackend", "ShuttingDown",
    "TooManyClients",
    # libkeel's codes
    "NotPermitted", "NotFound", "KeelIOError", "TooBig", "TryAgain",
    "OutOfMemory", "Busy", "AlreadyExists", "InvalidArgument", "NoSpace",
    "OutOfRange", "NotSupported", "TimedOut", "Cancelled", "NoDomain",
    "NoPool", "WrongState", "Corrupt", "Foreign", "NoHostMemory", "Locked",
    "BadSyntax", "NoBackend",
    "error_class", "error_from_reply",
]


class KeelError(Exception):
    """An error keeld answered.

    Attributes: ``code`` (keeld's number: a JSON-RPC code such as -32602, or
    libkeel's: -errno, or -4000 and below), ``name`` (``data.name``: e.g.
    ``"KEEL_ENODOMAIN"`` or ``"invalid params"``), ``message`` (keeld's
    text), ``data`` (the whole ``data`` member or None), ``method`` (the
    method called, when known) and ``job`` (the job id, for an error a job
    ended with; else None)."""

    #: the code this class stands for (None: any)
    CODE = None
    #: the data.name this class stands for (None: any)
    NAME = None

    def __init__(self, message="", code=None, name=None, data=None,
                 method=None, job=None):
        self.message = message if message is not None else ""
        self.code = code if code is not None else self.CODE
        self.name = name if name is not None else self.NAME
        self.data = data
        self.method = method
        self.job = job
        super().__init__(self.message)

    def __str__(self):
        where = ""
        if self.job is not None:
            where = "job %s: " % self.job
        elif self.method:
            where = "%s: " % self.method
        what = self.message or self.name or "error"
        tag = ", ".join(str(x) for x in (self.name, self.code) if x is not None)
        return "%s%s (%s)" % (where, what, tag) if tag else where + what

    def __repr__(self):
        return "%s(%r, code=%r, name=%r)" % (type(self).__name__, self.message,
                                             self.code, self.name)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.name,
                           self.data, self.method, self.job))


def _rebuild(cls, message, code, name, data, method, job):
    return cls(message, code, name, data, method, job)


class KeelConnectionError(ConnectionError):
    """keeld cannot be reached, or the connection to it was lost. The
    message says where the client looked; ``socket_path`` is that path."""

    def __init__(self, message, socket_path=None, cause_errno=None):
        super().__init__(message)
        self.socket_path = socket_path
        if cause_errno is not None:
            self.errno = cause_errno


def _cls(pyname, code, name, doc):
    return type(pyname, (KeelError,), {"CODE": code, "NAME": name,
                                       "__doc__": doc, "__module__": __name__})


# keeld's own codes (docs/keeld-api.md)
ParseError = _cls("ParseError", -32700, "parse error",
                  "-32700: keeld could not parse the request as JSON.")
InvalidRequest = _cls("InvalidRequest", -32600, "invalid request",
                      "-32600: not a JSON-RPC request (or a line too long).")
MethodNotFound = _cls("MethodNotFound", -32601, "method not found",
                      "-32601: keeld has no such method.")
InvalidParams = _cls("InvalidParams", -32602, "invalid params",
                     "-32602: a missing, unknown or wrongly typed member; "
                     "the message names it.")
InternalError = _cls("InternalError", -32603, "internal error",
                     "-32603: keeld failed internally.")
ReadOnly = _cls("ReadOnly", -32001, "read-only socket",
                "-32001: a method that changes the host, called on "
                "keeld-ro.sock.")
NotOnBackend = _cls("NotOnBackend", -32002, "not on this backend",
                    "-32002: the method is not available on keeld's backend "
                    "(sim.* on xen).")
ShuttingDown = _cls("ShuttingDown", -32003, "shutting down",
                    "-32003: keeld is stopping.")
TooManyClients = _cls("TooManyClients", -32004, "too many clients",
                      "-32004: keeld has --max-clients connections already.")

# libkeel's codes (enum keel_err of <keel/keel.h>): errno-based ones are
# -errno on Linux; keel's own are -4000 and below.
NotPermitted = _cls("NotPermitted", -_errno.EPERM, "KEEL_EPERM",
                    "KEEL_EPERM: operation not permitted.")
NotFound = _cls("NotFound", -_errno.ENOENT, "KEEL_ENOENT",
                "KEEL_ENOENT: no such object (file, job, config).")
KeelIOError = _cls("KeelIOError", -_errno.EIO, "KEEL_EIO",
                   "KEEL_EIO: I/O error.")
TooBig = _cls("TooBig", -_errno.E2BIG, "KEEL_E2BIG",
              "KEEL_E2BIG: argument list or value too long.")
TryAgain = _cls("TryAgain", -_errno.EAGAIN, "KEEL_EAGAIN",
                "KEEL_EAGAIN: try again.")
OutOfMemory = _cls("OutOfMemory", -_errno.ENOMEM, "KEEL_ENOMEM",
                   "KEEL_ENOMEM: keeld ran out of memory.")
Busy = _cls("Busy", -_errno.EBUSY, "KEEL_EBUSY", "KEEL_EBUSY: object in use.")
AlreadyExists = _cls("AlreadyExists", -_errno.EEXIST, "KEEL_EEXIST",
                     "KEEL_EEXIST: object already exists (a name in use).")
InvalidArgument = _cls("InvalidArgument", -_errno.EINVAL, "KEEL_EINVAL",
                       "KEEL_EINVAL: invalid argument.")
NoSpace = _cls("NoSpace", -_errno.ENOSPC, "KEEL_ENOSPC",
               "KEEL_ENOSPC: no space left on a file system.")
OutOfRange = _cls("OutOfRange", -_errno.ERANGE, "KEEL_ERANGE",
                  "KEEL_ERANGE: value out of range.")
NotSupported = _cls("NotSupported", -_errno.ENOTSUP, "KEEL_ENOTSUP",
                    "KEEL_ENOTSUP: not supported by this backend.")
TimedOut = _cls("TimedOut", -_errno.ETIMEDOUT, "KEEL_ETIMEDOUT",
                "KEEL_ETIMEDOUT: timed out (e.g. a shutdown with wait).")
Cancelled = _cls("Cancelled", -_errno.ECANCELED, "KEEL_ECANCELED",
                 "KEEL_ECANCELED: cancelled (a job after job.cancel).")
NoDomain = _cls("NoDomain", -4000, "KEEL_ENODOMAIN",
                "KEEL_ENODOMAIN: no such domain.")
NoPool = _cls("NoPool", -4001, "KEEL_ENOPOOL", "KEEL_ENOPOOL: no such CPU pool.")
WrongState = _cls("WrongState", -4002, "KEEL_ESTATE",
                  "KEEL_ESTATE: operation invalid in the object's state.")
Corrupt = _cls("Corrupt", -4003, "KEEL_ECORRUPT",
               "KEEL_ECORRUPT: stored or received data is corrupt.")
Foreign = _cls("Foreign", -4004, "KEEL_EFOREIGN",
               "KEEL_EFOREIGN: data belongs to something else.")
NoHostMemory = _cls("NoHostMemory", -4005, "KEEL_ENOHOSTMEM",
                    "KEEL_ENOHOSTMEM: not enough free memory on the host.")
Locked = _cls("Locked", -4006, "KEEL_ELOCKED",
              "KEEL_ELOCKED: held by another process.")
BadSyntax = _cls("BadSyntax", -4007, "KEEL_ESYNTAX",
                 "KEEL_ESYNTAX: syntax error in input (a config text).")
NoBackend = _cls("NoBackend", -4008, "KEEL_EBACKEND",
                 "KEEL_EBACKEND: no such hypervisor backend.")

_ALL = [ParseError, InvalidRequest, MethodNotFound, InvalidParams,
        InternalError, ReadOnly, NotOnBackend, ShuttingDown, TooManyClients,
        NotPermitted, NotFound, KeelIOError, TooBig, TryAgain, OutOfMemory,
        Busy, AlreadyExists, InvalidArgument, NoSpace, OutOfRange,
        NotSupported, TimedOut, Cancelled, NoDomain, NoPool, WrongState,
        Corrupt, Foreign, NoHostMemory, Locked, BadSyntax, NoBackend]

#: data.name -> class
BY_NAME = {c.NAME: c for c in _ALL}
#: code -> class
BY_CODE = {c.CODE: c for c in _ALL}


def error_class(code=None, name=None):
    """The KeelError subclass for keeld's data.name, else for its code,
    else KeelError itself."""
    if isinstance(name, str) and name in BY_NAME:
        return BY_NAME[name]
    if isinstance(code, int) and not isinstance(code, bool) and code in BY_CODE:
        return BY_CODE[code]
    return KeelError


def error_from_reply(error, method=None, job=None):
    """The exception for a JSON-RPC error object ({"code","message","data"})
    or a job's error ({"code","name","message"})."""
    if not isinstance(error, dict):
        return KeelError(str(error), method=method, job=job)
    code = error.get("code")
    data = error.get("data")
    name = error.get("name")
    if name is None and isinstance(data, dict):
        name = data.get("name")
    message = error.get("message")
    if not isinstance(message, str):
        message = "" if message is None else str(message)
    cls = error_class(code, name)
    return cls(message, code=code if isinstance(code, int) else None,
               name=name if isinstance(name, str) else None,
               data=data, method=method, job=job)
