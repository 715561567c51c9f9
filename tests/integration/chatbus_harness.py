"""Integration test harness: starts the real chatbus binaries on local ports they choose themselves (port 0), drives chatctl as separate
users, and speaks the wire protocol directly (RawClient, written from docs/protocol.md alone).

Every wait is bounded; every process started here is stopped by its PID (terminate, wait, kill) when the
cluster closes or the interpreter exits. Binaries come from $CHATBUS_BIN_DIR (set by ctest).

Cluster: one broker (own temp --state-dir; restart_broker() on the same ports and state dir), workers w1, w2, ...
(start_worker / kill_worker = SIGKILL by PID / stop_worker = SIGTERM, drain, exit code), status_json() from
`chatctl --json status`, raw_status() and wait_status() over the wire. For load tests: RoomLoad (pipelined raw
SENDs), EventRecorder (raw SUB on `room/` after a sync mark), verify_streams() (exactly-once for acked, no gap
or repeat per room, equal to history) and owner_of() (the spec's rendezvous hashing).

CURVE: Cluster(curve=True) makes keys with `chatctl keygen`, starts the broker with them and its workers with a
listed worker key; users get a listed client key of their name (cluster.keygen() makes more, listed or not);
raw clients and status queries use the "admin" key; Cluster(gateways=NAMES) lists gateway keys of those names
(cluster.gateway_keys, --gateway-keys). CurveKeys holds a key pair read from its files.
"""
import os
import sys

try:
    import msgpack
    import zmq
except ImportError:
    # Debian's python3-zmq and python3-msgpack are installed for /usr/bin/python3; a python3 found first on PATH
    # (pyenv, a venv) may not see them. Run the test again under the system interpreter once.
    if os.path.exists("/usr/bin/python3") and not os.environ.get("CHATBUS_HARNESS_REEXEC") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.environ["CHATBUS_HARNESS_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import atexit
import itertools
import json
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback

# ---------------------------------------------------------------------------------------------------------------
# Wire protocol, from docs/protocol.md ("Frames", the message table and the status table).

SIGNATURE = b"CB"
VERSION = 1

T = dict(
    ERROR=0x80,
    HELLO=0x01, HELLO_REPLY=0x81, REGISTER=0x02, REGISTER_REPLY=0x82, UNREGISTER=0x03, UNREGISTER_REPLY=0x83,
    JOIN=0x04, JOIN_REPLY=0x84, LEAVE=0x05, LEAVE_REPLY=0x85, SEND=0x06, SEND_REPLY=0x86, DM=0x07, DM_REPLY=0x87,
    WHO=0x08, WHO_REPLY=0x88, ROOMS=0x09, ROOMS_REPLY=0x89, HISTORY=0x0A, HISTORY_REPLY=0x8A,
    LISTEN=0x0B, LISTEN_REPLY=0x8B, PING=0x0C, PING_REPLY=0x8C, STATUS=0x0D, STATUS_REPLY=0x8D,
    DM_ACK=0x20, UNLISTEN=0x21, DM_DELIVER=0x30, MEMBERSHIP=0x31, LISTEN_END=0x32,
    W_READY=0x40, W_WELCOME=0x41, W_HEARTBEAT=0x42, W_DISCONNECT=0x43, W_REQUEST=0x44, W_REPLY=0x45,
    W_STATE=0x46, W_RELEASE=0x47, EVENT=0x50, SYNC=0x51,
)
TYPE_NAME = {v: k for k, v in T.items()}

STATUS = dict(ok=0, bad_request=1, bad_version=2, unknown_type=3, too_large=4, invalid_nick=5, nick_taken=6,
              unknown_nick=7, not_registered=8, bad_token=9, invalid_room=10, no_such_room=11, not_member=12,
              invalid_text=13, batch_too_large=14, inbox_full=15, no_worker=16, timeout=17, internal=18,
              rate_limited=19, too_many_rooms=20, room_full=21, reserved_name=22, too_many_clients=23, wrong_key=24,
              text_too_long=25, not_authorized=26, unknown_topic=27)
STATUS_NAME = {v: k for k, v in STATUS.items()}

VERBOSE = bool(os.environ.get("CHATBUS_TEST_VERBOSE"))

# Broker options turning the per-client and per-nick rate limits off, for tests that load the system far beyond
# what a person sends (docs/security.md, "Limits"); test_limits.py checks the limits themselves.
NO_RATE_LIMITS = ("--client-rate", "0", "--nick-rate", "0")

# On a sanitizer build (docs/testing.md) a finding goes to the process's stderr, and a process that the test
# stops (or that dies while nobody asks for its exit code) would hide it: any report fails the test instead.
SANITIZER_REPORT = re.compile(r"ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|: runtime error: ")


def sanitizer_report(name, text):
    """An AssertionError quoting the first sanitizer report in `text` (output of process `name`), or None."""
    m = SANITIZER_REPORT.search(text)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    return AssertionError("sanitizer report from %s:\n%s" % (name, text[start:start + 8000]))

# chatctl exit codes (status table, last column; 2 = usage).
EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 2, 3, 4, 5


def encode(msg_type, body, version=VERSION):
    """One frame: 'C' 'B' version type + one msgpack map."""
    return SIGNATURE + bytes([version, msg_type]) + msgpack.packb(body, use_bin_type=True)


def decode(frame):
    """(type, body) of a frame; raises ValueError if it is not a well-formed chatbus frame."""
    if len(frame) < 4 or frame[:2] != SIGNATURE:
        raise ValueError("malformed frame %r" % frame[:16])
    if frame[2] != VERSION:
        raise ValueError("version %d" % frame[2])
    body = msgpack.unpackb(frame[4:], raw=False)
    if not isinstance(body, dict):
        raise ValueError("body is not a map")
    return frame[3], body


def decode_topic_frame(frame):
    """(topic, type, body) of an events-socket frame: topic up to and including a zero byte, then a frame."""
    z = frame.index(b"\0")
    t, body = decode(frame[z + 1:])
    return frame[:z + 1], t, body


def room_topic(room):
    return b"room/" + room.encode() + b"\0"


_M64 = (1 << 64) - 1


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & _M64
    return h


def mix64(z):
    """The splitmix64 finaliser."""
    z = (z + 0x9e3779b97f4a7c15) & _M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & _M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & _M64
    return z ^ (z >> 31)


def owner_of(room, worker_ids):
    """The live worker owning `room` by rendezvous hashing (docs/protocol.md, Worker channel 5): highest
    mix64(fnv1a64(worker_id + "\0" + room)), ties to the smaller id."""
    best = None
    for w in sorted(worker_ids):
        score = mix64(fnv1a64(w.encode() + b"\0" + room.encode()))
        if best is None or score > best[0]:
            best = (score, w)
    return best[1] if best else None


class CurveKeys:
    """A CURVE key pair as `chatctl keygen` writes it (NAME.key, NAME.pub), Z85 text."""

    def __init__(self, key_file):
        self.key_file = key_file
        self.pub_file = key_file[:-len(".key")] + ".pub"
        fields = {}
        with open(key_file) as f:
            for line in f:
                if "=" in line and not line.lstrip().startswith("#"):
                    k, v = line.split("=", 1)
                    fields[k.strip()] = v.strip()
        self.public, self.secret = fields["public-key"], fields["secret-key"]

    def apply(self, sock, server_public):
        """Makes `sock` a CURVE client of `server_public` (before connect), as docs/protocol.md "CURVE" says."""
        sock.curve_serverkey = server_public.encode()
        sock.curve_publickey = self.public.encode()
        sock.curve_secretkey = self.secret.encode()


class RawClient:
    """A DEALER on the client endpoint that sends hand-built frames and waits (bounded) for replies. With
    `curve` = (CurveKeys, broker public key) it is a CURVE client; `routing_id` sets ZMQ_ROUTING_ID."""

    def __init__(self, endpoint, ctx=None, curve=None, routing_id=None):
        self.ctx = ctx or zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve:
            curve[0].apply(self.sock, curve[1])
        if routing_id is not None:
            self.sock.setsockopt(zmq.ROUTING_ID, routing_id)
        self.sock.connect(endpoint)
        self.rids = itertools.count(1000)
        self.notifications = []  # frames that were not the awaited reply

    def close(self):
        self.sock.close(0)

    def send_raw(self, frame):
        self.sock.send(frame)

    def recv_raw(self, timeout=5.0):
        if not self.sock.poll(int(timeout * 1000)):
            raise TimeoutError("no frame from the broker within %.1f s" % timeout)
        return self.sock.recv()

    def recv(self, timeout=5.0):
        return decode(self.recv_raw(timeout))

    def request(self, name, timeout=5.0, **fields):
        """Sends message `name` with a fresh rid (unless given) and returns the body of the reply with that rid."""
        fields.setdefault("rid", next(self.rids))
        self.send_raw(encode(T[name], fields))
        return self.expect_reply(fields["rid"], T[name] | 0x80, timeout)

    def expect_reply(self, rid, reply_type=None, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply with rid %d within %.1f s" % (rid, timeout))
            frame = self.recv_raw(left)
            t, body = decode(frame)
            if body.get("rid") == rid and t & 0x80:
                if reply_type is not None and t not in (reply_type, T["ERROR"]):
                    raise AssertionError("reply type %s, expected %s: %r" % (
                        TYPE_NAME.get(t, hex(t)), TYPE_NAME.get(reply_type, hex(reply_type)), body))
                body["_type"] = t
                return body
            self.notifications.append((t, body))


def status_of(reply):
    return STATUS_NAME.get(reply.get("status"), "status %r" % reply.get("status"))


# ---------------------------------------------------------------------------------------------------------------
# Processes

def bin_dir():
    d = os.environ.get("CHATBUS_BIN_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build", "bin")
    d = os.path.abspath(d)
    for name in ("chatbus-broker", "chatbus-worker", "chatctl"):
        if not os.access(os.path.join(d, name), os.X_OK):
            raise SystemExit("FAIL: %s not found in %s (set CHATBUS_BIN_DIR)" % (name, d))
    return d


def rss_kb(pid):
    """Resident memory of a process, in kB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class DeadPort:
    """A TCP port of 127.0.0.1 on which nothing listens: bound (so no other process can take it) but never
    listening, so a connection to `endpoint` is refused for as long as this object is open."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.endpoint = "tcp://127.0.0.1:%d" % self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def bind_any_port(sock, host="127.0.0.1"):
    """Binds a ZeroMQ socket to a port the system chooses and returns the endpoint it got."""
    sock.bind("tcp://%s:*" % host)
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def read_ready_file(path):
    """{key: value} of a broker's --ready-file (one key=value a line), or None while it does not exist."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


_all_procs = []


def _stop_all():
    for p in list(_all_procs):
        p.stop()


atexit.register(_stop_all)


def _on_signal(signum, frame):
    _stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


class Proc:
    """A started process whose stderr (and stdout, unless piped) goes to a temp file printed on failure."""

    def __init__(self, name, argv, env=None, pipe_stdout=False):
        self.name = name
        self.argv = argv
        self.log = tempfile.NamedTemporaryFile(prefix="chatbus-%s-" % name, suffix=".log", delete=False)
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE if pipe_stdout else self.log, stderr=self.log)
        self.pid = self.popen.pid
        _all_procs.append(self)

    def alive(self):
        return self.popen.poll() is None

    def stop(self, timeout=5.0):
        if self.popen.poll() is None:
            try:
                self.popen.terminate()
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
            except ProcessLookupError:
                pass
        if self in _all_procs:
            _all_procs.remove(self)
        return self.popen.returncode

    def kill9(self):
        """SIGKILL by PID (only this process), then reaps it."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(5)
        if self in _all_procs:
            _all_procs.remove(self)
        return self.popen.returncode

    def term(self, timeout):
        """SIGTERM by PID and waits up to `timeout` s for the process to exit by itself; returns the exit code,
        or None if it was still running (it is then killed)."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            rc = None
        if self in _all_procs:
            _all_procs.remove(self)
        return rc

    def log_text(self):
        try:
            with open(self.log.name, errors="replace") as f:
                return f.read()
        except OSError as e:
            return "(cannot read %s: %s)" % (self.log.name, e)


class Result:
    def __init__(self, argv, rc, stdout, stderr, elapsed):
        self.argv, self.rc, self.stdout, self.stderr, self.elapsed = argv, rc, stdout, stderr, elapsed
        self.lines = []
        for line in stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"_unparsed": line})

    @property
    def json(self):
        """The single JSON object printed (the last one if several)."""
        if not self.lines:
            raise AssertionError("no JSON output from %s\n%s" % (" ".join(self.argv), self.describe()))
        return self.lines[-1]

    def describe(self):
        return "  command: %s\n  exit: %s (%.2f s)\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), self.rc, self.elapsed, self.stdout.strip(), self.stderr.strip())


class Listener:
    """`chatctl listen --json` in the background; its stdout lines are read by a thread into a queue."""

    def __init__(self, user, extra=()):
        self.user = user
        argv = user.argv("listen", *extra)
        self.proc = Proc("listen-%s" % user.name, argv, env=user.env(), pipe_stdout=True)
        user.cluster.procs.append(self.proc)  # logged on failure, stopped (first) and cleaned up with the cluster
        self.q = queue.Queue()
        self.seen = []
        self.taken = set()  # indexes in seen already returned by wait_for
        self.ended = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.popen.stdout:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({"_unparsed": line})
        self.q.put(None)  # end of output

    def next(self, timeout=10.0):
        """The next line read (also appended to self.seen), or None at end of output; raises TimeoutError."""
        if self.ended:
            return None
        try:
            item = self.q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("listener %s printed nothing for %.1f s; lines so far: %r\n%s" % (
                self.user.name, timeout, self.seen, self.proc.log_text()))
        if item is None:
            self.ended = True
        else:
            self.seen.append(item)
        return item

    def wait_for(self, pred, timeout=10.0, what="a matching line"):
        """The first line not returned before for which pred holds (earlier lines are looked at first);
        reads more lines as needed. Every line read stays in self.seen, in order."""
        for i, item in enumerate(self.seen):
            if i not in self.taken and pred(item):
                self.taken.add(i)
                return item
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("listener %s: no %s within %.1f s; lines: %r" % (
                    self.user.name, what, timeout, self.seen))
            item = self.next(left)
            if item is None:
                raise AssertionError("listener %s ended (exit %s) before %s; lines: %r\nstderr:\n%s" % (
                    self.user.name, self.proc.popen.wait(5), what, self.seen, self.proc.log_text()))
            if pred(item):
                self.taken.add(len(self.seen) - 1)
                waited = timeout - (deadline - time.monotonic())
                if VERBOSE or waited > 2.0:
                    print("  [%.2f s] listener %s: %s" % (waited, self.user.name, what), flush=True)
                return item

    def collect(self, n, pred, timeout=10.0, what="lines"):
        """The next n lines for which pred holds (in order)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = max(0.01, deadline - time.monotonic())
            out.append(self.wait_for(pred, left, "%s (%d of %d so far)" % (what, len(out), n)))
        return out

    def ready(self, timeout=10.0):
        return self.wait_for(lambda l: l.get("type") == "ready", timeout, "ready line")

    def wait_exit(self, timeout):
        """The exit code once the process ends by itself; raises TimeoutError."""
        try:
            return self.proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError("listener %s still running after %.1f s; lines: %r" % (
                self.user.name, timeout, self.seen))

    def stop(self):
        return self.proc.stop()


class User:
    """A simulated person: their own XDG_CONFIG_HOME (saved tokens), running chatctl against the cluster."""

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.home = tempfile.mkdtemp(prefix="chatbus-user-%s-" % name)
        cluster._dirs.append(self.home)
        self.nick = None
        self.prefix = []  # argv prefix, e.g. ["ip", "netns", "exec", NS]
        # CURVE: (CurveKeys, broker .pub file) given to chatctl; a cluster with CURVE gives a listed key.
        self.curve = cluster.client_curve(name) if getattr(cluster, "curve", False) else None

    def env(self):
        e = dict(os.environ)
        e["XDG_CONFIG_HOME"] = self.home
        e["HOME"] = self.home
        return e

    def argv(self, *args, timeout=None, as_nick=True):
        a = self.prefix + [self.cluster.chatctl, "--broker", self.cluster.client_ep, "--json"]
        if timeout is not None:
            a += ["--timeout", str(timeout)]
        if as_nick and self.nick:
            a += ["--as", self.nick]
        if self.curve:
            a += ["--curve-key", self.curve[0].key_file, "--broker-key", self.curve[1]]
        return a + list(args)

    def run(self, *args, timeout=None, as_nick=True, limit=30.0):
        argv = self.argv(*args, timeout=timeout, as_nick=as_nick)
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, env=self.env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=limit)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("chatctl did not finish within %.0f s: %s\nstdout: %s\nstderr: %s" % (
                limit, " ".join(argv), e.stdout, e.stderr))
        r = Result(argv, p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"),
                   time.monotonic() - t0)
        report = sanitizer_report("chatctl " + " ".join(args), r.stderr)
        if report:
            raise report
        if VERBOSE or r.elapsed > 2.0:
            print("  [%.2f s, exit %s] chatctl %s" % (r.elapsed, r.rc, " ".join(args)), flush=True)
        return r

    def ok(self, *args, output=True, **kw):
        """Runs a command that must succeed: exit 0, no {"ok": false}, and (if output) at least one line."""
        r = self.run(*args, **kw)
        if r.rc != 0 or (output and not r.lines) or any(l.get("ok") is False for l in r.lines):
            raise AssertionError("expected success\n" + r.describe())
        return r

    def fails(self, *args, status=None, rc=None, **kw):
        """Runs a command that must fail with the given status name and exit code."""
        r = self.run(*args, **kw)
        problems = []
        if rc is not None and r.rc != rc:
            problems.append("exit %s, expected %s" % (r.rc, rc))
        if r.rc == 0:
            problems.append("exit 0")
        if status is not None:
            got = r.lines[-1].get("status") if r.lines else None
            if got != status:
                problems.append("status %r, expected %r" % (got, status))
            if r.lines and r.json.get("ok") is not False:
                problems.append('no "ok": false')
        if problems:
            raise AssertionError("; ".join(problems) + "\n" + r.describe())
        return r

    def register(self, nick):
        r = self.ok("register", nick, as_nick=False)
        check(r.json.get("nick") == nick, "register printed nick %r, expected %r" % (r.json.get("nick"), nick))
        self.nick = nick
        return r

    def token_file(self, nick=None):
        return os.path.join(self.home, "chatbus", "nicks", (nick or self.nick).lower())

    def token(self, nick=None):
        """The saved token: the file holds the nick and the token, one a line ("token=" prefix optional)."""
        with open(self.token_file(nick)) as f:
            lines = [l.strip() for l in f.read().split("\n") if l.strip()]
        for l in lines:
            if l.startswith("token="):
                return l[len("token="):]
        return lines[1]

    def forge_token_file(self, nick, token, like):
        """Writes a token file for `nick` holding `token`, in the layout of the existing file `like`."""
        with open(like) as f:
            lines = f.read().split("\n")
        out = []
        for i, l in enumerate(lines):
            if l.startswith("nick=") or (i == 0 and "=" not in l):
                out.append(("nick=" if l.startswith("nick=") else "") + nick)
            elif l.startswith("token=") or (i == 1 and "=" not in l):
                out.append(("token=" if l.startswith("token=") else "") + token)
            else:
                out.append(l)
        d = os.path.join(self.home, "chatbus", "nicks")
        os.makedirs(d, mode=0o700, exist_ok=True)
        path = os.path.join(d, nick.lower())
        with open(path, "w") as f:
            f.write("\n".join(out))
        os.chmod(path, 0o600)
        return path

    def listen(self, *extra):
        return Listener(self, extra)


class Cluster:
    """One broker and N workers on 127.0.0.1, the broker with its own temporary state directory (kept across
    restart_broker()). The first broker binds port 0 and tells the endpoints it got in its --ready-file; they are
    client_ep, worker_ep and events_ep from then on (a restarted broker binds them again). Use as a context
    manager."""

    def __init__(self, workers=1, broker_args=(), worker_args=(), log_level="debug", state_dir=True, curve=False,
                 bind_nicks=False, clients=(), local_workers=0, gateways=()):
        d = bin_dir()
        self.broker_bin = os.path.join(d, "chatbus-broker")
        self.worker_bin = os.path.join(d, "chatbus-worker")
        self.chatctl = os.path.join(d, "chatctl")
        # Known once the first broker has bound them (start_broker).
        self.client_ep = self.worker_ep = self.events_ep = None
        self.broker_args = list(broker_args)
        self.local_workers = local_workers  # inside the broker (--local-workers); counted as live workers
        if local_workers:
            self.broker_args += ["--local-workers", str(local_workers)]
        self.worker_args = list(worker_args)
        self.log_level = log_level
        self.n_workers = workers
        self.broker = None
        self.brokers = []  # every broker process started, the current one last
        self.workers = []  # every worker process started (dead ones included), in order
        self.procs = []
        self._dirs = [tempfile.mkdtemp(prefix="chatbus-run-")]
        self.ready_file = os.path.join(self._dirs[0], "broker.ready")
        self.state_dir = None
        if state_dir:
            self.state_dir = tempfile.mkdtemp(prefix="chatbus-state-")
            self._dirs.append(self.state_dir)
        self._admin = None
        self._raw = []
        self._next_worker = 1
        self.curve = curve
        self.bind_nicks = bind_nicks
        if curve:
            self._setup_curve(clients, gateways)

    def keygen(self, name, listed_as=None):
        """A new key pair NAME from `chatctl keygen` in this cluster's key directory; listed_as "client", "worker"
        or "gateway" copies its .pub into that allow-list of the broker (read when the broker starts)."""
        r = subprocess.run([self.chatctl, "--json", "keygen", name, "--dir", self.key_dir], capture_output=True,
                           timeout=15)
        if r.returncode != 0:
            raise AssertionError("chatctl keygen %s failed: %s %s" % (name, r.stdout, r.stderr))
        keys = CurveKeys(os.path.join(self.key_dir, name + ".key"))
        if listed_as:
            shutil.copy(keys.pub_file, {"client": self.client_keys_dir, "worker": self.worker_keys_dir,
                                        "gateway": self.gateway_keys_dir}[listed_as])
        return keys

    def _setup_curve(self, clients, gateways):
        self.key_dir = tempfile.mkdtemp(prefix="chatbus-keys-")
        self._dirs.append(self.key_dir)
        self.client_keys_dir = os.path.join(self.key_dir, "clients")
        self.worker_keys_dir = os.path.join(self.key_dir, "workers")
        self.gateway_keys_dir = os.path.join(self.key_dir, "gateways")
        os.mkdir(self.client_keys_dir)
        os.mkdir(self.worker_keys_dir)
        os.mkdir(self.gateway_keys_dir)
        self.broker_keys = self.keygen("broker")
        self.worker_keys = self.keygen("worker", listed_as="worker")
        self.client_keys = {n: self.keygen(n, listed_as="client") for n in set(clients) | {"admin"}}
        # Listed with --gateway-keys (docs/protocol.md "CURVE"): they may claim the gateway role in HELLO.
        self.gateway_keys = {n: self.keygen(n, listed_as="gateway") for n in gateways}

    def client_curve(self, name):
        """(CurveKeys, broker .pub file) for user `name`: its listed key if it has one, else the admin's."""
        return (self.client_keys.get(name, self.client_keys["admin"]), self.broker_keys.pub_file)

    def raw_curve(self, keys=None):
        """The `curve` argument of RawClient: `keys` (default: the admin key) and the broker's public key."""
        if not self.curve:
            return None
        return (keys or self.client_keys["admin"], self.broker_keys.public)

    def __enter__(self):
        try:
            self.start_broker()
            for i in range(self.n_workers):
                self.start_worker()
            self.wait_workers(self.n_workers + self.local_workers)
        except BaseException:
            self.dump_logs()
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and exc_type is not SystemExit:
            self.dump_logs()
        self.close()
        return False

    def start_broker(self, timeout=10.0):
        """Starts a broker on this cluster's endpoints (port 0 the first time) and state directory, and waits
        (bounded) for its ready file. Raises BrokerExited if it exits first (an endpoint it cannot bind)."""
        any_port = "tcp://127.0.0.1:0"
        argv = [self.broker_bin, "--client", self.client_ep or any_port, "--worker", self.worker_ep or any_port,
                "--events", self.events_ep or any_port, "--ready-file", self.ready_file,
                "--log-level", self.log_level]
        if self.state_dir:
            argv += ["--state-dir", self.state_dir]
        if self.curve:
            argv += ["--curve-key", self.broker_keys.key_file, "--client-keys", self.client_keys_dir,
                     "--worker-keys", self.worker_keys_dir]
            if self.gateway_keys:
                argv += ["--gateway-keys", self.gateway_keys_dir]
            if self.bind_nicks:
                argv += ["--bind-nicks-to-keys", "true"]
        argv += self.broker_args
        if os.path.exists(self.ready_file):
            os.unlink(self.ready_file)  # the previous broker's
        self.broker = Proc("broker-%d" % (len(self.brokers) + 1), argv)
        self.brokers.append(self.broker)
        self.procs.append(self.broker)
        deadline = time.monotonic() + timeout
        while True:
            ready = read_ready_file(self.ready_file)
            if ready is not None:
                break
            if not self.broker.alive():
                raise BrokerExited("broker exited with %s before it was ready\n%s" % (
                    self.broker.popen.returncode, self.broker.log_text()))
            if time.monotonic() > deadline:
                raise TimeoutError("broker wrote no ready file within %.0f s\n%s" % (timeout,
                                                                                      self.broker.log_text()))
            time.sleep(0.01)  # poll interval of a bounded wait on a file another process writes
        check_eq(ready.get("pid"), str(self.broker.pid), "pid in the broker's ready file")
        for k in ("client", "worker", "events"):
            was = getattr(self, k + "_ep")
            check(was is None or ready[k] == was, "restarted broker bound %s %s, not %s" % (k, ready[k], was))
            setattr(self, k + "_ep", ready[k])
        return self.broker

    def restart_broker(self, kill=True, timeout=10.0):
        """SIGKILLs (or, with kill=False, SIGTERMs) the broker by PID and starts a new one on the same ports and
        state directory. Returns the monotonic time at which the new process was started. The new broker must
        answer PING within `timeout` (the old one's ports may take a moment to be free again)."""
        old = self.broker
        if kill:
            old.kill9()
        else:
            old.term(10)
        deadline = time.monotonic() + timeout
        while True:
            t0 = time.monotonic()
            try:
                self.start_broker(timeout=max(0.1, deadline - t0))
            except BrokerExited:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # a port still held by the old process: try again, bounded by the deadline
                continue
            check(self.ping(timeout=max(0.1, deadline - time.monotonic())),
                  "restarted broker does not answer PING within %.0f s\n%s" % (timeout, self.broker.log_text()))
            return t0

    def ping(self, timeout=2.0):
        """True if the broker answers a raw PING within `timeout`."""
        c = RawClient(self.client_ep, curve=self.raw_curve())
        try:
            return c.request("PING", timeout=timeout).get("status") == 0
        except TimeoutError:
            return False
        finally:
            c.close()

    def start_worker(self, wid=None, keys=None, broker_pub=None):
        """Starts a worker (id w1, w2, ... unless given) connected with --broker and --id only (and, with CURVE,
        key pair `keys` (default: the listed worker key) and the broker public key file `broker_pub`)."""
        if wid is None:
            wid = "w%d" % self._next_worker
            self._next_worker += 1
        argv = [self.worker_bin, "--broker", self.worker_ep, "--id", wid, "--log-level", self.log_level]
        if self.curve:
            argv += ["--curve-key", (keys or self.worker_keys).key_file,
                     "--broker-key", broker_pub or self.broker_keys.pub_file]
        argv += self.worker_args
        p = Proc("worker-" + wid, argv)
        p.wid = wid
        self.workers.append(p)
        self.procs.append(p)
        return p

    def live_workers(self):
        return [w for w in self.workers if w.alive()]

    def worker(self, wid):
        for w in self.workers:
            if w.wid == wid:
                return w
        raise KeyError(wid)

    def kill_worker(self, w):
        """SIGKILL one worker by its PID."""
        return w.kill9()

    def stop_worker(self, w, timeout=15.0):
        """SIGTERM one worker by its PID; it drains and exits by itself. Returns its exit code (None: it had to
        be killed after `timeout` s)."""
        return w.term(timeout)

    def user(self, name):
        return User(self, name)

    def alice_and_listening_bob(self, room="lobby"):
        """The common opening: alice and bob registered and in `room`, bob's listener ready. Returns (alice,
        bob, bob's Listener)."""
        alice, bob = self.user("alice"), self.user("bob")
        alice.register("alice")
        bob.register("bob")
        alice.ok("join", room)
        bob.ok("join", room)
        listener = bob.listen()
        listener.ready()
        return alice, bob, listener

    def raw(self):
        c = RawClient(self.client_ep, curve=self.raw_curve())
        self._raw.append(c)
        return c

    def status(self, timeout=1):
        if self._admin is None:
            self._admin = self.user("admin")
        return self._admin.run("status", timeout=timeout, limit=15)

    def status_json(self, timeout=2):
        """`chatctl --json status` as a dict: workers [{id, host, pid, rooms, served, last_heartbeat_ms}], nicks,
        rooms, listeners, inboxed, requests, dropped, retried, moved, boot, uptime_ms."""
        r = self.status(timeout=timeout)
        if r.rc != 0 or not r.lines or r.json.get("ok") is False:
            raise AssertionError("chatctl status failed\n" + r.describe())
        return r.json

    def raw_status(self, timeout=5.0):
        """STATUS over a raw client (the wire field names)."""
        c = RawClient(self.client_ep, curve=self.raw_curve())
        try:
            return c.request("STATUS", timeout=timeout)
        finally:
            c.close()

    def wait_status(self, pred, timeout=10.0, what="a matching status", interval=0.05):
        """Polls STATUS (raw, so that no chatctl process start-up is measured) until pred(status) holds;
        returns (status, seconds waited)."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        last = None
        while True:
            c = RawClient(self.client_ep, curve=self.raw_curve())
            try:
                last = c.request("STATUS", timeout=max(0.2, min(1.0, deadline - time.monotonic())))
                if pred(last):
                    return last, time.monotonic() - t0
            except TimeoutError:
                pass
            finally:
                c.close()
            if time.monotonic() >= deadline:
                raise TimeoutError("no %s within %.1f s; last status: %r" % (what, timeout, last))
            time.sleep(interval)  # poll interval of a bounded wait

    def wait_workers(self, n, timeout=10.0):
        """Polls `chatctl status` until the broker counts n live workers."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.broker.alive():
                raise AssertionError("broker exited with %s during start-up\n%s" % (
                    self.broker.popen.returncode, self.broker.log_text()))
            last = self.status(timeout=1)
            if last.rc == 0 and last.lines and len(last.json.get("workers", [])) == n:
                return last.json
            time.sleep(0.1)  # poll interval of a bounded wait, not a synchronisation
        raise TimeoutError("broker did not report %d workers within %.0f s; last status:\n%s" % (
            n, timeout, last.describe() if last else "none"))

    def dump_logs(self):
        for p in self.procs:
            sys.stderr.write("----- %s (pid %d, %s) -----\n%s\n" % (
                p.name, p.pid, "running" if p.alive() else "exit %s" % p.popen.returncode, p.log_text()))

    def close(self):
        for c in self._raw:
            c.close()
        # Latest first: listeners, while the broker can still hear their goodbye, then workers, then the broker.
        for p in reversed(self.procs):
            p.stop()
        reports = [r for r in (sanitizer_report("%s (pid %d)" % (p.name, p.pid), p.log_text()) for p in self.procs)
                   if r]
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        for p in self.procs:
            try:
                os.unlink(p.log.name)
            except OSError:
                pass
        if reports:
            raise reports[0]


# ---------------------------------------------------------------------------------------------------------------
# Load: a pipelined raw sender, a raw subscriber recording every room event, and the checks tying them together.

def raw_register(cluster, nicks, window=64, timeout=10.0):
    """Registers every nick over one raw client, `window` requests in flight. Returns {nick: reply body}."""
    c = RawClient(cluster.client_ep, curve=cluster.raw_curve())
    try:
        replies, pending, todo = {}, {}, list(nicks)
        todo.reverse()
        deadline = time.monotonic() + timeout + 0.01 * len(nicks)
        while todo or pending:
            while todo and len(pending) < window:
                n = todo.pop()
                rid = next(c.rids)
                pending[rid] = n
                c.send_raw(encode(T["REGISTER"], {"rid": rid, "nick": n}))
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("%d REGISTER requests unanswered" % len(pending))
            t, body = c.recv(left)
            if body.get("rid") in pending and t == T["REGISTER_REPLY"]:
                replies[pending.pop(body["rid"])] = body
        return replies
    finally:
        c.close()


def raw_requests(cluster, name, bodies, window=64, timeout=10.0):
    """Sends `name` with each body (rid added), `window` in flight, over one raw client. Returns the replies in
    the order of `bodies`."""
    c = RawClient(cluster.client_ep, curve=cluster.raw_curve())
    try:
        out = [None] * len(bodies)
        pending, i = {}, 0
        deadline = time.monotonic() + timeout + 0.01 * len(bodies)
        while i < len(bodies) or pending:
            while i < len(bodies) and len(pending) < window:
                rid = next(c.rids)
                pending[rid] = i
                b = dict(bodies[i])
                b["rid"] = rid
                c.send_raw(encode(T[name], b))
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("%d %s requests unanswered" % (len(pending), name))
            t, body = c.recv(left)
            if body.get("rid") in pending and t & 0x80:
                out[pending.pop(body["rid"])] = body
        return out
    finally:
        c.close()


class EventRecorder:
    """A raw SUB on the events endpoint subscribed to every room (`room/`), then to a sync mark; a thread records
    every event as a dict (room, seq, kind, nick, text, ts, at = monotonic arrival time)."""

    def __init__(self, endpoint, prefix=b"room/"):
        self.endpoint = endpoint
        self.prefix = prefix
        self.events = []
        self.malformed = []
        self.synced = threading.Event()
        self._stop = threading.Event()
        self._error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout=10.0):
        self.thread.start()
        if not self.synced.wait(timeout):
            self.stop()
            raise TimeoutError("no SYNC on %s within %.0f s (%r)" % (self.endpoint, timeout, self._error))
        return self

    def _run(self):
        sock = zmq.Context.instance().socket(zmq.SUB)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVHWM, 0)  # keep everything: the test counts every event
            sock.connect(self.endpoint)
            sock.setsockopt(zmq.SUBSCRIBE, self.prefix)
            nonce = "rec-%d-%d" % (os.getpid(), id(self))
            sock.setsockopt(zmq.SUBSCRIBE, b"sync/" + nonce.encode() + b"\0")
            while not self._stop.is_set():
                if not sock.poll(100):
                    continue
                frame = sock.recv()
                at = time.monotonic()
                try:
                    topic, t, body = decode_topic_frame(frame)
                except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
                    self.malformed.append((frame[:64], str(e)))
                    continue
                if t == T["SYNC"]:
                    if body.get("nonce") == nonce:
                        self.synced.set()
                    continue
                if t == T["EVENT"]:
                    body["at"] = at
                    body["_topic"] = topic
                    self.events.append(body)
                else:
                    self.malformed.append((frame[:64], "type 0x%02x" % t))
        except Exception as e:  # reported by the test through self._error
            self._error = e
        finally:
            sock.close(0)

    def by_room(self):
        out = {}
        for e in list(self.events):
            out.setdefault(e["room"], []).append(e)
        return out

    def wait_until(self, pred, timeout=10.0, what="events"):
        deadline = time.monotonic() + timeout
        while not pred(self):
            if time.monotonic() > deadline:
                raise TimeoutError("subscriber: no %s within %.0f s (%d events recorded)" % (
                    what, timeout, len(self.events)))
            time.sleep(0.02)  # poll interval of a bounded wait

    def stop(self):
        self._stop.set()
        self.thread.join(5)


class RoomLoad:
    """One raw client (its own DEALER, in a thread) sending `total` SEND requests, one text each, round-robin over
    `rooms`, with up to `window` requests in flight and a per-request client timeout. `rate` (messages per
    second) paces the sends when given. Every request is recorded: i, room, text, sent, replied (monotonic),
    status (name, or "no_reply" when nothing came within client_timeout), first_seq, last_seq."""

    def __init__(self, endpoint, nick, token, rooms, total, window=32, client_timeout=10.0, rate=None, tag="m"):
        self.endpoint = endpoint
        self.nick, self.token = nick, token
        self.rooms = list(rooms)
        self.total = total
        self.window = window
        self.client_timeout = client_timeout
        self.rate = rate
        self.tag = tag
        self.results = []
        self.sent = 0  # requests sent so far (read by the test thread)
        self.done = 0  # requests finished (reply or client timeout)
        self.error = None
        self.started = self.finished = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def text_of(self, i):
        return "%s%05d" % (self.tag, i)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        sock = zmq.Context.instance().socket(zmq.DEALER)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self.endpoint)
            inflight = {}  # rid -> record
            rid = 1
            self.started = time.monotonic()
            while self.sent < self.total or inflight:
                now = time.monotonic()
                while self.sent < self.total and len(inflight) < self.window and (
                        self.rate is None or now >= self.started + self.sent / self.rate):
                    i = self.sent
                    room = self.rooms[i % len(self.rooms)]
                    rec = {"i": i, "room": room, "text": self.text_of(i), "sent": now, "replied": None,
                           "status": None, "first_seq": None, "last_seq": None, "rid": rid}
                    sock.send(encode(T["SEND"], {"rid": rid, "nick": self.nick, "token": self.token,
                                                 "room": room, "texts": [rec["text"]]}))
                    inflight[rid] = rec
                    self.results.append(rec)
                    rid += 1
                    self.sent += 1
                    now = time.monotonic()
                wait = 0.05
                if self.rate is not None and self.sent < self.total and len(inflight) < self.window:
                    wait = max(0.0, min(wait, self.started + self.sent / self.rate - now))
                if sock.poll(int(wait * 1000) + 1):
                    while True:
                        try:
                            frame = sock.recv(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        t, body = decode(frame)
                        rec = inflight.pop(body.get("rid"), None)
                        if rec is None:
                            continue  # a reply after our client timeout: too late, recorded as no_reply
                        rec["replied"] = time.monotonic()
                        rec["status"] = STATUS_NAME.get(body.get("status"), "status %r" % body.get("status"))
                        if t != T["SEND_REPLY"]:
                            rec["status"] += " (type 0x%02x)" % t
                        rec["first_seq"], rec["last_seq"] = body.get("first_seq"), body.get("last_seq")
                        rec["error"] = body.get("error")
                        self.done += 1
                now = time.monotonic()
                for r, rec in list(inflight.items()):
                    if now - rec["sent"] > self.client_timeout:
                        rec["status"] = "no_reply"
                        del inflight[r]
                        self.done += 1
        except Exception as e:
            self.error = e
            traceback.print_exc()
        finally:
            self.finished = time.monotonic()
            sock.close(0)

    def wait_sent(self, n, timeout=60.0):
        """Waits (bounded) until n requests were sent."""
        deadline = time.monotonic() + timeout
        while self.sent < n and self.thread.is_alive():
            if time.monotonic() > deadline:
                raise TimeoutError("load: only %d of %d requests sent after %.0f s" % (self.sent, n, timeout))
            time.sleep(0.005)  # poll interval of a bounded wait
        if self.error:
            raise self.error

    def join(self, timeout=120.0):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("load still running after %.0f s (%d of %d done)" % (timeout, self.done, self.total))
        if self.error:
            raise self.error
        return self

    def counts(self):
        out = {}
        for r in self.results:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out


def fetch_histories(cluster, rooms, timeout=10.0):
    """{room: [event bodies]} from HISTORY (last 0, since 0) of every room, over one raw client."""
    reps = raw_requests(cluster, "HISTORY", [{"room": r, "last": 0, "since": 0} for r in rooms], timeout=timeout)
    out = {}
    for room, rep in zip(rooms, reps):
        check(rep.get("status") == 0, "HISTORY %s: %s %r" % (room, status_of(rep), rep.get("error")))
        out[room] = rep.get("events") or []
    return out


def verify_streams(cluster, load, rec, rooms, allowed=("ok", "timeout")):
    """The guarantees of a load run: every request answered (ok or an allowed failure); every acknowledged text
    delivered to the subscriber exactly once, at the acknowledged seq, and present in history; no text delivered
    twice; per room the subscriber's sequence numbers are 1, 2, 3 ... with no gap and no repeat and equal
    history's; each room ends with a sentinel SEND after the load. Returns a summary dict."""
    counts = load.counts()
    bad = [r for r in load.results if r["status"] not in allowed]
    check(not bad, "%d requests ended with a status other than %s: counts %r, first ones: %r" % (
        len(bad), "/".join(allowed), counts, bad[:5]))
    # A sentinel per room, sent once the load is over: the broker publishes a room's events in order to each
    # subscriber, and nothing of the load can be published after it (a request answered already is never run
    # again), so once the subscriber has every sentinel it has every event, duplicates included.
    sentinel = {room: "sentinel-" + room for room in rooms}
    reps = raw_requests(cluster, "SEND", [{"nick": load.nick, "token": load.token, "room": room,
                                           "texts": [sentinel[room]]} for room in rooms])
    sentinel_seq = {}
    for room, rep in zip(rooms, reps):
        check(rep.get("status") == 0, "sentinel SEND to %s: %s %r" % (room, status_of(rep), rep.get("error")))
        sentinel_seq[room] = rep["first_seq"]
    rec.wait_until(lambda r: {e.get("text") for e in list(r.events)} >= set(sentinel.values()), timeout=10.0,
                   what="the sentinel of every room")
    check(not rec.malformed, "subscriber got malformed frames: %r" % rec.malformed[:5])
    hist = fetch_histories(cluster, rooms)

    sub = rec.by_room()
    extra_rooms = set(sub) - set(rooms)
    check(not extra_rooms, "events for rooms nobody used: %r" % sorted(extra_rooms)[:5])
    delivered = {}  # text -> [(room, seq)]
    for room in rooms:
        evs = sub.get(room, [])
        seqs = [e["seq"] for e in evs]
        check(evs and evs[-1].get("text") == sentinel[room] and evs[-1]["seq"] == sentinel_seq[room],
              "room %s: the last event is not the sentinel (seq %d): %r" % (room, sentinel_seq[room], evs[-1:]))
        check(seqs == list(range(1, len(seqs) + 1)),
              "room %s: subscriber seqs are not 1..%d without gap or repeat: %s" % (room, len(seqs), _seq_problems(seqs)))
        h = hist[room]
        hseqs = [e["seq"] for e in h]
        check(hseqs == list(range(1, len(hseqs) + 1)) or (hseqs and hseqs == list(range(hseqs[0], hseqs[-1] + 1))),
              "room %s: history seqs have a gap or repeat: %s" % (room, _seq_problems(hseqs)))
        check(len(seqs) == hseqs[-1] if hseqs else not seqs,
              "room %s: subscriber has %d events, history ends at seq %r" % (room, len(seqs), hseqs[-1:]))
        key = lambda e: (e["room"], e["seq"], e["kind"], e["nick"], e["text"])
        by_seq = {e["seq"]: e for e in evs}
        for e in h:
            check(e["seq"] in by_seq and key(by_seq[e["seq"]]) == key(e),
                  "room %s seq %d: history %r, subscriber %r" % (room, e["seq"], key(e),
                                                                 key(by_seq[e["seq"]]) if e["seq"] in by_seq else None))
        for e in evs[:-1]:
            if e["kind"] == "message":
                delivered.setdefault(e["text"], []).append((room, e["seq"]))
    twice = {t: v for t, v in delivered.items() if len(v) > 1}
    check(not twice, "%d texts delivered more than once, e.g. %r" % (len(twice), list(twice.items())[:5]))
    hist_texts = {(room, e["seq"]): e["text"] for room, h in hist.items() for e in h if e["kind"] == "message"}
    acked = [r for r in load.results if r["status"] == "ok"]
    for r in acked:
        got = delivered.get(r["text"])
        check(got == [(r["room"], r["first_seq"])],
              "acked %s (room %s, seq %r): delivered as %r" % (r["text"], r["room"], r["first_seq"], got))
        check(r["first_seq"] == r["last_seq"], "one text but seqs %r..%r" % (r["first_seq"], r["last_seq"]))
        check(hist_texts.get((r["room"], r["first_seq"])) == r["text"],
              "acked %s (room %s, seq %d) not in history (history has %r)" % (
                  r["text"], r["room"], r["first_seq"], hist_texts.get((r["room"], r["first_seq"]))))
    ours = {load.text_of(i) for i in range(load.total)}
    stray = set(delivered) - ours
    check(not stray, "texts nobody sent were delivered: %r" % sorted(stray)[:5])
    timed_out = [r for r in load.results if r["status"] == "timeout"]
    late = sum(1 for r in timed_out if r["text"] in delivered)
    return {"acked": len(acked), "timeouts": len(timed_out), "timeouts_delivered": late,
            "events": len(rec.events), "counts": counts}


def _seq_problems(seqs):
    gaps, repeats, seen = [], [], set()
    for a, b in zip(seqs, seqs[1:]):
        if b != a + 1:
            gaps.append((a, b))
    for s_ in seqs:
        if s_ in seen:
            repeats.append(s_)
        seen.add(s_)
    return "first=%r last=%r n=%d jumps=%r repeats=%r" % (seqs[:1], seqs[-1:], len(seqs), gaps[:5], repeats[:5])


def setup_sender(cluster, rooms, nick="loader"):
    """Registers a nick over a raw client and joins it to every room (each join is seq 1 of a new room).
    Returns (nick, token)."""
    reg = raw_register(cluster, [nick])[nick]
    check(reg.get("status") == 0, "REGISTER %s: %r" % (nick, reg))
    token = reg["token"]
    reps = raw_requests(cluster, "JOIN", [{"nick": nick, "token": token, "room": r} for r in rooms])
    for room, rep in zip(rooms, reps):
        check(rep.get("status") == 0 and rep.get("seq") == 1 and rep.get("joined") is True,
              "JOIN %s: %r" % (room, rep))
    return nick, token


# ---------------------------------------------------------------------------------------------------------------
# Checks

class CheckFailed(AssertionError):
    pass


class BrokerExited(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


def check_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, expected %r" % (what, got, want))


def run_checks(checks, cluster_factory=lambda: Cluster(workers=1)):
    """Runs each (description, function(cluster)) on a fresh cluster; prints PASS/FAIL; exits 1 on a failure.
    An entry (description, function, factory) gets its cluster from its own factory."""
    failed = 0
    for desc, fn, *own in checks:
        print("CHECK: %s" % desc, flush=True)
        t0 = time.monotonic()
        try:
            with (own[0] if own else cluster_factory)() as c:
                fn(c)
        except Exception:
            traceback.print_exc()
            failed += 1
            print("FAIL: %s (%.1f s)" % (desc, time.monotonic() - t0), flush=True)
            continue
        print("PASS: %s (%.1f s)" % (desc, time.monotonic() - t0), flush=True)
    print("%d passed, %d failed" % (len(checks) - failed, failed), flush=True)
    sys.exit(1 if failed else 0)
