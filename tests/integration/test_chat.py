#!/usr/bin/env python3
"""`chatctl chat` end to end, as people use it: alice on a real terminal (a pty, so the kernel echoes what she
types), bob through a pipe. Checks the room's last messages shown on entering, /join switching the room lines
go to, /who, /me as an action the other user sees, an unknown command sent nowhere, /leave falling back, a
time on every event line equal to the event's own, and every posted line shown exactly once on both sides."""
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
import time

from chatbus_harness import Cluster, check, check_eq, run_checks

EVENT_LINE = re.compile(r"^(\d\d:\d\d) \[([^\]]+)\] (.*)$")


class Screen:
    """Just enough of a terminal for what chatctl writes: text, \\r, \\n, cursor up (ESC [ A) and erase line
    (ESC [ 2K / ESC [ K). Rows are never scrolled away, so the whole session stays readable."""

    def __init__(self):
        self.rows = [[]]
        self.row = 0
        self.col = 0
        self.pending = b""

    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        text = data.decode("utf-8", errors="ignore") if not data.endswith(b"\x1b") else None
        if text is None:  # an escape sequence cut in two: keep its start for the next read
            self.pending = data[data.rindex(b"\x1b"):]
            text = data[:data.rindex(b"\x1b")].decode("utf-8", errors="ignore")
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
                if not m:
                    self.pending = text[i:].encode()
                    return
                n, op = int(m.group(1) or 1), m.group(2)
                if op == "A":
                    self.row = max(0, self.row - n)
                elif op == "K":
                    line = self.rows[self.row]
                    if m.group(1) == "2":
                        del line[:]
                    else:
                        del line[self.col:]
                i += len(m.group(0))
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row += 1
                if self.row == len(self.rows):
                    self.rows.append([])
            else:
                line = self.rows[self.row]
                while len(line) < self.col:
                    line.append(" ")
                if self.col < len(line):
                    line[self.col] = ch
                else:
                    line.append(ch)
                self.col += 1
            i += 1

    def lines(self):
        return ["".join(r).rstrip() for r in self.rows]


class Session:
    """One `chatctl chat` (human output) with a thread reading what it prints."""

    def __init__(self, user, room, terminal):
        # Human output: the user's argv without --json.
        argv = [a for a in user.argv("chat", room) if a != "--json"]
        self.name = user.name
        self.cond = threading.Condition()
        self.ended = False
        self.screen = Screen()
        self.terminal = terminal
        if terminal:
            master, slave = pty.openpty()
            # Wide enough that no line wraps: the Screen does not wrap either.
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
            self.proc = subprocess.Popen(argv, env=user.env(), stdin=slave, stdout=slave, stderr=slave,
                                         start_new_session=True)
            os.close(slave)
            self.master = master
            self.thread = threading.Thread(target=self._read_pty, daemon=True)
        else:
            self.proc = subprocess.Popen(argv, env=user.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
            self.out = []
            self.thread = threading.Thread(target=self._read_pipe, daemon=True)
        self.thread.start()

    def _read_pty(self):
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            with self.cond:
                if not data:
                    self.ended = True
                    self.cond.notify_all()
                    return
                self.screen.feed(data)
                self.cond.notify_all()

    def _read_pipe(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.out.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def lines(self):
        with self.cond:
            return self.screen.lines() if self.terminal else list(self.out)

    def type(self, line):
        data = (line + "\n").encode()
        if self.terminal:
            os.write(self.master, data)
        else:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def wait_for(self, pred, what, timeout=10.0):
        """The first line for which pred holds, waiting (bounded) for it to be printed."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                lines = self.screen.lines() if self.terminal else self.out
                for l in lines:
                    if pred(l):
                        return l
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    raise AssertionError("%s: no %s within %.0f s%s; output:\n%s" % (
                        self.name, what, timeout, " (it exited)" if self.ended else "", "\n".join(lines)))
                self.cond.wait(left)

    def wait_text(self, text, what=None, timeout=10.0):
        return self.wait_for(lambda l: text in l, what or repr(text), timeout)

    def wait_exit(self, timeout=10.0):
        rc = self.proc.wait(timeout)
        self.thread.join(timeout)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.terminal:
            self.thread.join(5)
            os.close(self.master)


def event_lines(lines):
    """(HH:MM, room, rest) of every event line."""
    return [m.groups() for m in map(EVENT_LINE.match, lines) if m]


def clock(ts_ms):
    return time.strftime("%H:%M", time.localtime(ts_ms // 1000))


def times_match(session, user, rooms):
    """Every event line printed shows the time of the event it shows (from HISTORY's ts)."""
    want = {}
    for room in rooms:
        for e in user.ok("history", room).lines:
            if e.get("type") != "event":
                continue
            rest = {"join": "* %s joined" % e["nick"], "leave": "* %s left" % e["nick"]}.get(e["kind"])
            if rest is None:
                rest = ("* %s %s" % (e["nick"], e["text"][4:]) if e["text"].startswith("/me ")
                        else "%s: %s" % (e["nick"], e["text"]))
            want.setdefault((room, rest), set()).add(clock(e["ts"]))
    shown = event_lines(session.lines())
    check(shown, "%s printed no event lines" % session.name)
    for hhmm, room, rest in shown:
        check((room, rest) in want, "%s printed %r in %s, which is no event of it" % (session.name, rest, room))
        check(hhmm in want[(room, rest)], "%s shows %s for %r in %s; the event's time is %s" % (
            session.name, hhmm, rest, room, sorted(want[(room, rest)])))


def count(session, room, rest):
    return sum(1 for _, r, x in event_lines(session.lines()) if r == room and x == rest)


def chat(c):
    alice, bob = c.user("alice"), c.user("bob")
    alice.register("alice")
    bob.register("bob")
    bob.ok("join", "lobby")
    for i in range(1, 4):
        bob.ok("send", "--room", "lobby", "old %d" % i)

    b = Session(bob, "lobby", terminal=False)
    a = None
    try:
        b.wait_text("talking in lobby (/help lists the commands)")
        a = Session(alice, "lobby", terminal=True)
        a.wait_text("talking in lobby (/help lists the commands)")
        # Entering shows the room's last events, alice's own join among them.
        for text in ("bob: old 1", "bob: old 2", "bob: old 3", "* alice joined"):
            check_eq(count(a, "lobby", text), 1, "alice's screen on entering: %r once" % text)
        b.wait_for(lambda l: l.endswith("[lobby] * alice joined"), "alice's join")

        a.type("hello from alice")
        b.wait_for(lambda l: l.endswith("[lobby] alice: hello from alice"), "alice's line")
        a.wait_for(lambda l: l.endswith("[lobby] alice: hello from alice"), "her own line as the room's event")
        check_eq(sum("hello from alice" in l for l in a.lines()), 1,
                 "rows of alice's screen holding her line (typed echo + event = doubled)")

        a.type("/me waves")
        b.wait_for(lambda l: l.endswith("[lobby] * alice waves"), "alice's action")
        a.wait_for(lambda l: l.endswith("[lobby] * alice waves"), "her action")
        check(not any("/me waves" in l for l in a.lines()), "the typed /me line left on alice's screen")
        check(not any("/me" in l for l in b.lines()), "bob sees the raw /me text: %r" % b.lines())

        # /join switches the room lines go to.
        a.type("/join dev")
        a.wait_text("talking in dev")
        a.type("in dev now")
        a.wait_for(lambda l: l.endswith("[dev] alice: in dev now"), "her line in dev")
        dev = [(e["nick"], e["text"]) for e in alice.ok("history", "dev").lines if e.get("kind") == "message"]
        check_eq(dev, [("alice", "in dev now")], "dev's messages after /join dev")
        lobby = [e["text"] for e in alice.ok("history", "lobby").lines if e.get("kind") == "message"]
        check("in dev now" not in lobby, "a line after /join dev went to lobby: %r" % lobby)

        # bob enters dev: what was said there before shows first, then his join.
        b.type("/join dev")
        b.wait_text("talking in dev")
        b.wait_for(lambda l: l.endswith("[dev] * bob joined"), "his join in dev")
        check_eq(count(b, "dev", "alice: in dev now"), 1, "dev's earlier line shown to bob on entering")
        a.wait_for(lambda l: l.endswith("[dev] * bob joined"), "bob's join in dev")

        b.type("/who")
        who = b.wait_for(lambda l: l.startswith("dev: "), "/who of dev")
        check_eq(sorted(who[len("dev: "):].split(", ")), ["alice", "bob"], "/who in dev")

        a.type("/bogus stuff")
        a.wait_text("chatctl: unknown command /bogus (/help lists the commands; // starts a line with /)")
        a.type("/leave")
        a.wait_text("left dev; talking in lobby")
        a.type("back in lobby")
        b.wait_for(lambda l: l.endswith("[lobby] alice: back in lobby"), "alice's line after /leave")
        # Her own event too, before she types again: the erase of a typed echo counts rows, and a line typed
        # before the post is accepted would shift them (docs/chatctl.md).
        a.wait_for(lambda l: l.endswith("[lobby] alice: back in lobby"), "her line after /leave")

        # The sentinel: /quit ends alice's chat, so everything she will ever print is on the screen.
        a.type("/quit")
        check_eq(a.wait_exit(), 0, "alice's chat exit code after /quit")
        b.type("/quit")
        check_eq(b.wait_exit(), 0, "bob's chat exit code after /quit")

        for text in ("bob: old 3", "alice: hello from alice", "* alice waves", "alice: back in lobby"):
            check_eq(count(a, "lobby", text), 1, "alice's screen: %r in lobby" % text)
        # Not checked: that the terminal's echo of each typed line is erased. The erase counts rows and races
        # with events printed meanwhile, so under load an echo can stay (seen on a busy 2-core run): it is best
        # effort until chat has a line editor of its own (docs/chatctl.md). Each event is shown once, above.
        check_eq(count(a, "dev", "alice: in dev now"), 1, "alice's screen: her dev line")
        for text in ("alice: hello from alice", "* alice waves", "alice: back in lobby", "* alice joined"):
            check_eq(count(b, "lobby", text), 1, "bob's output: %r in lobby" % text)
        check(not any("bogus" in l for l in b.lines()), "the unknown command reached bob")
        for room in ("lobby", "dev"):
            texts = [e["text"] for e in alice.ok("history", room).lines if e.get("kind") == "message"]
            check(not any("bogus" in t for t in texts), "the unknown command was posted to %s" % room)
        times_match(a, alice, ("lobby", "dev"))
        times_match(b, bob, ("lobby", "dev"))
    finally:
        b.stop()
        if a:
            a.stop()


if __name__ == "__main__":
    run_checks([("chat on a terminal and through a pipe: rooms, /who, /me, history, one line each", chat)])
