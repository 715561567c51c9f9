"""Integration test harness: starts the real chatbus binaries on free local ports, drives chatctl as separate
users, and speaks the wire protocol directly (RawClient, written from docs/protocol.md alone).

Every wait is bounded; every process started here is stopped by its PID (terminate, wait, kill) when the
cluster closes or the interpreter exits. Binaries come from $CHATBUS_BIN_DIR (set by ctest).
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
    EVENT=0x50, SYNC=0x51,
)
TYPE_NAME = {v: k for k, v in T.items()}

STATUS = dict(ok=0, bad_request=1, bad_version=2, unknown_type=3, too_large=4, invalid_nick=5, nick_taken=6,
              unknown_nick=7, not_registered=8, bad_token=9, invalid_room=10, no_such_room=11, not_member=12,
              invalid_text=13, batch_too_large=14, inbox_full=15, no_worker=16, timeout=17, internal=18)
STATUS_NAME = {v: k for k, v in STATUS.items()}

VERBOSE = bool(os.environ.get("CHATBUS_TEST_VERBOSE"))

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


class RawClient:
    """A DEALER on the client endpoint that sends hand-built frames and waits (bounded) for replies."""

    def __init__(self, endpoint, ctx=None):
        self.ctx = ctx or zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
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


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(5)

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

    def env(self):
        e = dict(os.environ)
        e["XDG_CONFIG_HOME"] = self.home
        e["HOME"] = self.home
        return e

    def argv(self, *args, timeout=None, as_nick=True):
        a = [self.cluster.chatctl, "--broker", self.cluster.client_ep, "--json"]
        if timeout is not None:
            a += ["--timeout", str(timeout)]
        if as_nick and self.nick:
            a += ["--as", self.nick]
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
    """One broker and N workers on free ports of 127.0.0.1. Use as a context manager."""

    def __init__(self, workers=1, broker_args=(), worker_args=()):
        d = bin_dir()
        self.broker_bin = os.path.join(d, "chatbus-broker")
        self.worker_bin = os.path.join(d, "chatbus-worker")
        self.chatctl = os.path.join(d, "chatctl")
        self.ports = {}
        for k in ("client", "worker", "xsub", "events"):
            self.ports[k] = free_port()
        self.client_ep = "tcp://127.0.0.1:%d" % self.ports["client"]
        self.worker_ep = "tcp://127.0.0.1:%d" % self.ports["worker"]
        self.xsub_ep = "tcp://127.0.0.1:%d" % self.ports["xsub"]
        self.events_ep = "tcp://127.0.0.1:%d" % self.ports["events"]
        self.broker_args = list(broker_args)
        self.worker_args = list(worker_args)
        self.n_workers = workers
        self.broker = None
        self.workers = []
        self.procs = []
        self._dirs = []
        self._admin = None
        self._raw = []

    def __enter__(self):
        try:
            self.start_broker()
            for i in range(self.n_workers):
                self.start_worker("w%d" % (i + 1))
            self.wait_workers(self.n_workers)
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

    def start_broker(self):
        argv = [self.broker_bin, "--client", self.client_ep, "--worker", self.worker_ep, "--xsub", self.xsub_ep,
                "--events", self.events_ep, "--log-level", "debug"] + self.broker_args
        self.broker = Proc("broker", argv)
        self.procs.append(self.broker)
        return self.broker

    def start_worker(self, wid):
        argv = [self.worker_bin, "--broker", self.worker_ep, "--id", wid, "--log-level", "debug"] + self.worker_args
        p = Proc("worker-" + wid, argv)
        self.workers.append(p)
        self.procs.append(p)
        return p

    def user(self, name):
        return User(self, name)

    def raw(self):
        c = RawClient(self.client_ep)
        self._raw.append(c)
        return c

    def status(self, timeout=1):
        if self._admin is None:
            self._admin = self.user("admin")
        return self._admin.run("status", timeout=timeout, limit=15)

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
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        for p in self.procs:
            try:
                os.unlink(p.log.name)
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------------------------
# Checks

class CheckFailed(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


def check_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: got %r, expected %r" % (what, got, want))


def run_checks(checks, cluster_factory=lambda: Cluster(workers=1)):
    """Runs each (description, function(cluster)) on a fresh cluster; prints PASS/FAIL; exits 1 on a failure."""
    failed = 0
    for desc, fn in checks:
        print("CHECK: %s" % desc, flush=True)
        t0 = time.monotonic()
        try:
            with cluster_factory() as c:
                fn(c)
        except Exception:
            traceback.print_exc()
            failed += 1
            print("FAIL: %s (%.1f s)" % (desc, time.monotonic() - t0), flush=True)
            continue
        print("PASS: %s (%.1f s)" % (desc, time.monotonic() - t0), flush=True)
    print("%d passed, %d failed" % (len(checks) - failed, failed), flush=True)
    sys.exit(1 if failed else 0)
