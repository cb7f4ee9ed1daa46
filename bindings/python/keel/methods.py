"""keel.methods: the table of keeld's JSON-RPC methods (docs/keeld-api.md).

Client gets one Python method per row: "domain.set_memory" becomes
Client.domain_set_memory(domain, memory_kb). Each row is

    (JSON-RPC method, params, flags, doc)

params lists the members in order; a name ending in "?" is optional (its
Python parameter defaults to None, and None is left out of the request,
so keeld applies its own default). flags: "R" the method is allowed on
the read-only socket; "PATH:name" makes that member absolute against the
caller's working directory (keeld wants absolute paths); "STREAM" the
connection carries a migration stream after the reply (see
Client.domain_migrate_incoming).

When keeld gains a method, add a row here: the tests check that every
method of docs/keeld-api.md has one.
"""

_CONFIG = ("`config` (a libxl JSON object) or `config_text` (a file's text) "
           "with `format` (\"xl\" default, \"json\", \"xml\") and `overrides` "
           "(a list such as [\"memory=512\"], xl only); one of `config` and "
           "`config_text`, not both. Errors in the text name "
           "`config_text:LINE:COL`.")

_STOP = ("`wait` (default False: return once the request is written to the "
         "guest; True: once the guest stopped and its on_poweroff/on_reboot "
         "action is done), `timeout_ms` (default 60000) and `force` (on "
         "timeout destroy; only with wait=True). A timeout without force "
         "raises TimedOut.")

METHODS = [
    # --- host ---------------------------------------------------------------
    ("version", [], "R",
     "keeld's version: {'version', 'api': 1, 'backend'}."),
    ("host.info", [], "R",
     "The physical host: nr_cpus, nr_nodes, cores_per_socket, "
     "threads_per_core, nr_sockets, cpu_khz, total_kb, free_kb, xen_version, "
     "capabilities, backend."),
    # --- domains ------------------------------------------------------------
    ("domain.list", [], "R",
     "The running domains, Domain-0 first: a list of domain info dicts "
     "(domid, uuid, name, type, state, reason, flags, memory_kb, target_kb, "
     "max_kb, vcpus, max_vcpus, cpu_time_s, pool, start_time, uptime_s, "
     "defined, autostart)."),
    ("domain.info", ["domain"], "R",
     "One domain's info dict (as in domain_list). `domain` is a name, a "
     "domid or a uuid. Raises NoDomain when there is none."),
    ("domain.vcpu_list", ["domain"], "R",
     "The domain's vCPUs: [{'vcpu', 'cpu', 'state', 'online', 'cpu_time_s', "
     "'hard', 'soft'}], one per vCPU up to max_vcpus."),
    ("domain.get_config", ["domain", "format?"], "R",
     "The domain's config: a dict for format \"json\" (the default), the "
     "file's text for \"xl\" or \"xml\". Domain-0 has none (NotFound)."),
    ("domain.create", ["config?", "config_text?", "format?", "overrides?",
                       "paused?"], "",
     "Creates and starts a domain (paused if `paused`) from " + _CONFIG +
     " Returns {'domid', 'name', 'uuid'}."),
    ("domain.destroy", ["domain"], "",
     "Destroys the domain at once. Returns {}."),
    ("domain.shutdown", ["domain", "wait?", "timeout_ms?", "force?"], "",
     "Asks the guest to shut down: " + _STOP + " Returns {}."),
    ("domain.reboot", ["domain", "wait?", "timeout_ms?", "force?"], "",
     "Asks the guest to reboot: " + _STOP + " Returns {}."),
    ("domain.pause", ["domain"], "", "Pauses the domain. Returns {}."),
    ("domain.unpause", ["domain"], "", "Unpauses the domain. Returns {}."),
    ("domain.rename", ["domain", "name"], "",
     "Renames the domain. Returns {}."),
    ("domain.set_memory", ["domain", "memory_kb"], "",
     "Sets the domain's memory target, in KiB. Returns {}."),
    ("domain.set_max_memory", ["domain", "memory_kb"], "",
     "Sets the domain's maximum memory, in KiB. Returns {}."),
    ("domain.set_vcpus", ["domain", "vcpus"], "",
     "Sets the number of online vCPUs. Returns {}."),
    ("domain.pin_vcpu", ["domain", "vcpu", "hard?", "soft?"], "",
     "Pins `vcpu` (a number or \"all\") to CPU specs `hard` and/or `soft` "
     "(\"2-5\", \"node:1\", \"all\"; at least one). Returns {}."),
    ("domain.define", ["config?", "config_text?", "format?", "overrides?"], "",
     "Makes a defined domain that keeld keeps (not started), from " +
     _CONFIG + " Returns {'name', 'uuid'}."),
    ("domain.undefine", ["domain"], "",
     "Forgets a defined domain (by name or uuid). Returns {}."),
    ("domain.start", ["domain", "paused?"], "",
     "Starts a defined domain. Returns {'domid'}."),
    ("domain.list_defined", [], "R",
     "The defined domains: [{'name', 'uuid', 'autostart', 'active', "
     "'domid'}]."),
    ("domain.set_autostart", ["domain", "autostart"], "",
     "Sets whether keeld starts a defined domain when it starts. Returns {}."),
    ("domain.unmanaged", [], "R",
     "Domains keel did not create: [{'domid', 'uuid', 'name', 'adopted'}]."),
    # --- CPU pools ----------------------------------------------------------
    ("cpupool.list", [], "R",
     "The CPU pools: [{'poolid', 'name', 'sched', 'n_dom', 'cpus'}]."),
    ("cpupool.create", ["name", "sched?", "cpus?"], "",
     "Creates a pool: `sched` is credit, credit2, rtds or null (default "
     "Pool-0's), `cpus` a spec of free CPUs (default the lowest free CPU). "
     "Returns {'poolid'}."),
    ("cpupool.destroy", ["pool"], "",
     "Destroys a pool (a name or an id). Returns {}."),
    ("cpupool.rename", ["pool", "name"], "", "Renames a pool. Returns {}."),
    ("cpupool.cpu_add", ["pool", "cpus"], "",
     "Adds free CPUs (a spec: \"3\", \"2-5\", \"node:1\") to a pool. "
     "Returns {}."),
    ("cpupool.cpu_remove", ["pool", "cpus"], "",
     "Removes CPUs from a pool. Returns {}."),
    ("cpupool.move_domain", ["domain", "pool"], "",
     "Moves a domain to another pool. Returns {}."),
    ("cpupool.numa_split", [], "",
     "Splits the host's CPUs into one pool per NUMA node. Returns {}."),
    # --- scheduler ----------------------------------------------------------
    ("sched.get", ["domain?", "pool?"], "R",
     "Scheduler parameters of a domain ({'sched', 'weight', 'cap'}, or for "
     "rtds {'sched', 'vcpus': [...]}) or of a pool ({'sched', 'tslice_ms', "
     "'ratelimit_us'}). Give one of `domain` and `pool`."),
    ("sched.set", ["domain?", "pool?", "weight?", "cap?", "vcpus?",
                   "tslice_ms?", "ratelimit_us?"], "",
     "Sets scheduler parameters: `domain` with `weight`/`cap`, or `vcpus` "
     "(rtds: [{'vcpu', 'period_us', 'budget_us', 'extratime'}]); or `pool` "
     "with `tslice_ms`/`ratelimit_us`. Members left out keep their values. "
     "Returns {}."),
    # --- jobs ---------------------------------------------------------------
    ("domain.save", ["domain", "file", "leave?"], "PATH:file",
     "Starts a job saving the domain to `file` (a path keeld writes; a "
     "relative one is made absolute here). `leave` is \"destroyed\" "
     "(default), \"paused\" or \"running\". Returns {'job'}: follow it with "
     "wait_job()."),
    ("domain.restore", ["file", "name?", "paused?"], "PATH:file",
     "Starts a job restoring a domain from `file`, optionally under another "
     "`name`, paused. Returns {'job'}: wait_job() returns {'domid'}."),
    ("domain.migrate_local", ["domain", "socket?", "policy?", "downtime_ms?"],
     "PATH:socket",
     "Starts a job migrating the domain to the keeld listening on `socket` "
     "(its keeld.sock) on this machine, or without `socket` to a copy on "
     "this host that takes the domain's name and uuid; `policy` \"xen\" "
     "(default) or \"keel\", `downtime_ms` the keel policy's target. "
     "Returns {'job'}: wait_job() returns {'domid'}."),
    ("domain.migrate_incoming", ["paused?"], "STREAM",
     "keeld to keeld: asks this keeld to receive a migration stream. The "
     "request goes on a connection of its own, which is returned (a "
     "socket.socket, the reply read) for the caller to send the stream on; "
     "the caller closes it."),
    ("job.list", [], "R",
     "Every job keeld knows: a list of job dicts (as job_info)."),
    ("job.info", ["job"], "R",
     "A job (an id, or the {'job': id} that started it): {'job', 'kind', 'domain', 'state' (running, done, failed, "
     "cancelled), 'phase', 'bytes_done', 'bytes_total', 'error', 'result'}."),
    ("job.cancel", ["job"], "",
     "Cancels a running job (an id, or {'job': id}); WrongState when it "
     "has ended. Returns {}."),
    # --- events -------------------------------------------------------------
    ("events.subscribe", [], "R",
     "Low level: subscribes this connection to `event` notifications. Use "
     "events() instead, which does this and hands the events out."),
    ("events.unsubscribe", [], "R",
     "Low level: ends this connection's subscription (events() streams stop "
     "receiving events)."),
    # --- the sim backend ----------------------------------------------------
    ("sim.guest_act", ["domain", "reason"], "",
     "sim backend: the guest acts as if it shut itself down for `reason` "
     "(poweroff, reboot, suspend, crash, watchdog, soft_reset). Returns {}."),
    ("sim.guest_set", ["domain", "shutdown_delay_ms?", "ignore_shutdown?",
                       "busy?", "dirty_rate?", "ws_start?", "ws_pages?"], "",
     "sim backend: sets the simulated guest's behaviour (at least one "
     "member; the others keep their values). Returns {}."),
    ("sim.memory_digest", ["domain"], "R",
     "sim backend: a digest of the guest's memory: {'digest'}."),
]


def python_name(method):
    """The Client attribute for a JSON-RPC method: dots become
    underscores ("domain.set_memory" -> "domain_set_memory")."""
    return method.replace(".", "_")
