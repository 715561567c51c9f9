"""MQTT side of the integration tests: chatbus-gateway processes beside a chatbus_harness Cluster, and MQTT
clients that users really use: mosquitto_sub / mosquitto_pub (mosquitto-clients) and paho-mqtt
(python3-paho-mqtt, importable from /usr/bin/python3, which chatbus_harness re-executes under).

Every wait is bounded; gateways are Procs of the cluster (stopped by PID with it, their logs printed on failure).
"""
import atexit
import json
import os
import queue
import subprocess
import tempfile
import threading
import time

import paho.mqtt.client as paho

from chatbus_harness import Proc, bin_dir, read_ready_file


class Gateway:
    """A chatbus-gateway on 127.0.0.1, port 0 (the port it got comes from its ready file)."""

    def __init__(self, cluster, *extra, name=None, listen="127.0.0.1:0", timeout=10.0):
        self.cluster = cluster
        n = len([p for p in cluster.procs if p.name.startswith("gateway")]) + 1
        self.ready_file = os.path.join(cluster._dirs[0], "gateway-%d.ready" % n)
        self.argv = [os.path.join(bin_dir(), "chatbus-gateway"), "--listen", listen, "--broker", cluster.client_ep,
                     "--ready-file", self.ready_file, "--log-level", "debug"] + list(extra)
        self.proc = Proc(name or "gateway-%d" % n, self.argv)
        cluster.procs.append(self.proc)
        deadline = time.monotonic() + timeout
        while True:
            ready = read_ready_file(self.ready_file)
            if ready and "mqtt" in ready:
                break
            if not self.proc.alive():
                raise AssertionError("gateway exited (%s):\n%s" % (self.proc.popen.returncode, self.proc.log_text()))
            if time.monotonic() > deadline:
                raise AssertionError("gateway not ready in %.0f s:\n%s" % (timeout, self.proc.log_text()))
            time.sleep(0.02)
        self.host, port = ready["mqtt"].rsplit(":", 1)
        self.port = int(port)

    def kill9(self):
        return self.proc.kill9()


_subs = []


@atexit.register
def _stop_subs():
    for s in list(_subs):
        s.stop()


class MosquittoSub:
    """mosquitto_sub -v: each line is "TOPIC PAYLOAD"; lines are read by a thread into a queue. Stopped by PID
    when the test ends, whether it passed or not."""

    def __init__(self, gw, nick, token, topics, qos=1, extra=()):
        argv = ["mosquitto_sub", "-h", gw.host, "-p", str(gw.port), "-q", str(qos), "-v", "-i", "sub-%s" % nick]
        if nick:
            argv += ["-u", nick, "-P", token]
        for t in topics:
            argv += ["-t", t]
        argv += list(extra)
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  text=True)
        self.lines = queue.Queue()
        _subs.append(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout=10.0):
        """(topic, payload as JSON when it parses) of the next message; AssertionError after `timeout`."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("mosquitto_sub printed nothing in %.0f s" % timeout)
        if line is None:
            raise AssertionError("mosquitto_sub exited %s: %s" % (self.p.wait(5), self.p.stderr.read()))
        topic, _, payload = line.partition(" ")
        try:
            return topic, json.loads(payload)
        except ValueError:
            return topic, payload

    def wait_for(self, pred, timeout=10.0, what="a matching message"):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s from mosquitto_sub in %.0f s; saw %r" % (what, timeout, seen))
            topic, payload = self.next(left)
            if pred(topic, payload):
                return topic, payload
            seen.append((topic, payload))

    def stop(self):
        if self in _subs:
            _subs.remove(self)
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def mosquitto_pub(gw, nick, token, topic, message, qos=1, timeout=15.0):
    """Runs mosquitto_pub once; returns the CompletedProcess (rc 0: published, PUBACK received for QoS 1)."""
    argv = ["mosquitto_pub", "-h", gw.host, "-p", str(gw.port), "-q", str(qos), "-t", topic, "-m", message]
    if nick:
        argv += ["-u", nick, "-P", token]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


class PahoClient:
    """A paho-mqtt 1.6 client on its own network thread; what arrives goes into queues the test waits on."""

    def __init__(self, gw, nick=None, token=None, client_id="", clean=True, keepalive=30):
        self.c = paho.Client(client_id=client_id, clean_session=clean, protocol=paho.MQTTv311)
        if nick is not None:
            self.c.username_pw_set(nick, token)
        self.messages = queue.Queue()
        self.acks = queue.Queue()
        self.connack = queue.Queue()
        self.gone = queue.Queue()
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.qos))
        self.c.on_connect = lambda c, u, flags, rc: self.connack.put((rc, flags.get("session present", 0)))
        self.c.on_subscribe = lambda c, u, mid, granted: self.acks.put(("suback", mid, granted))
        self.c.on_publish = lambda c, u, mid: self.acks.put(("puback", mid, None))
        self.c.on_disconnect = lambda c, u, rc: self.gone.put(rc)
        self.gw = gw
        self.keepalive = keepalive

    def connect(self, timeout=10.0):
        """The CONNACK return code (0: accepted), and whether the session was present."""
        self.c.connect(self.gw.host, self.gw.port, keepalive=self.keepalive)
        self.c.loop_start()
        try:
            return self.connack.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no CONNACK in %.0f s" % timeout)

    def _ack(self, kind, mid, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                k, m, granted = self.acks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if k == kind and m == mid:
                return granted
        raise AssertionError("no %s for message %d in %.0f s" % (kind, mid, timeout))

    def subscribe(self, topics, qos=1, timeout=10.0):
        """Granted QoS per topic (128: refused)."""
        rc, mid = self.c.subscribe([(t, qos) for t in topics])
        assert rc == paho.MQTT_ERR_SUCCESS, rc
        return list(self._ack("suback", mid, timeout))

    def publish(self, topic, payload, qos=1, timeout=10.0):
        info = self.c.publish(topic, payload, qos=qos)
        if qos > 0:
            self._ack("puback", info.mid, timeout)
        return info

    def next(self, timeout=10.0, topic=None):
        """(topic, payload JSON-decoded when possible, qos) of the next message (on `topic` if given)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no message%s in %.0f s" % (" on " + topic if topic else "", timeout))
            try:
                t, p, q = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if topic is not None and t != topic:
                continue
            try:
                p = json.loads(p)
            except ValueError:
                p = p.decode("utf-8", "replace")
            return t, p, q

    def request(self, handler, payload=None, msgid=None, timeout=10.0):
        """Publishes to chatbus/req/HANDLER/MSGID and returns the reply's JSON."""
        msgid = msgid or "m%d" % int(time.monotonic() * 1e6)
        topic = "chatbus/req/%s/%s" % (handler, msgid)
        self.publish(topic, json.dumps(payload or {}), qos=1, timeout=timeout)
        return self.next(timeout, topic=topic)[1]

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()
