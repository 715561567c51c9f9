#!/usr/bin/env python3
"""Every deploy/NAME.conf against its binary, chatbus-NAME (the files the .deb installs in /etc/chatbus):
- the file as shipped passes `--check-config`, and so does the file with every commented-out key that has a
  value turned on (each listed default is a value the binary accepts; `key = ""` stands for unset);
- it lists exactly the binary's options (those of `--help`, less the few that do not belong in a file), so an
  option added to a binary without its line in the file, or a line left for a removed option, fails here;
- each commented-out value is the default `--help` reports;
- a misspelt key is refused.
No broker runs: this is the check of the files themselves (tests/systemd checks them again, installed)."""
import contextlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

from chatbus_harness import bin_dir, check, check_eq, run_checks

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
# Options that never go in a config file: what the file is for, and one-shot actions.
NOT_IN_FILE = {"help", "version", "config", "check-config"}
# Per binary: options its file deliberately leaves out, each with the reason the file itself gives.
LEFT_OUT = {"chatbus-worker": {"id"}}  # each chatbus-worker@NAME instance gets --id NAME from its unit
KEY_LINE = re.compile(r"^(#?)([a-z][a-z0-9-]*) = (.*)$")
HELP_COLUMN = 30  # CLI11 2.1 writes the option column this wide; a longer one puts its description a line below


def help_options(binary):
    """{option name: default shown by --help, or None} from CLI11's help text."""
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=15)
    check_eq(p.returncode, 0, "%s --help exit code" % binary)
    lines = p.stdout.splitlines()
    opts = {}
    for i, line in enumerate(lines):
        if not re.match(r"^  (-\w,)?--", line):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        alone = nxt.startswith(" " * HELP_COLUMN) and not nxt.strip().startswith("-")
        spec = line.rstrip() if alone else line[:HELP_COLUMN].rstrip()
        m = re.match(r"^  (?:-\w,)?--([a-z0-9-]+)(?: (.*))?$", spec)
        check(m is not None, "cannot read the option in %r (%s --help)" % (line, binary))
        typ = m.group(2) or ""
        opts[m.group(1)] = typ.rsplit("=", 1)[1] if "=" in typ else None
    check(len(opts) > len(NOT_IN_FILE), "%s --help lists no options: %r" % (binary, p.stdout))
    return opts


def file_keys(conf):
    """[(commented, key, value without quotes)] for every `key = value` or `#key = value` line."""
    keys = []
    for line in conf.read_text().splitlines():
        m = KEY_LINE.match(line)
        if m:
            value = m.group(3).strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            keys.append((m.group(1) == "#", m.group(2), value))
    return keys


def check_config(binary, conf):
    return subprocess.run([binary, "--config", str(conf), "--check-config"], capture_output=True, text=True,
                          timeout=15)


def normal(value):
    return {"0": "false", "1": "true"}.get(value, value)


def every_file_against_its_binary(_):
    confs = sorted(DEPLOY.glob("*.conf"))
    check_eq([c.name for c in confs], ["broker.conf", "gateway.conf", "worker.conf"], "deploy/*.conf")
    for conf in confs:
        binary = os.path.join(bin_dir(), "chatbus-" + conf.stem)
        check(os.access(binary, os.X_OK), "%s has no binary %s" % (conf.name, binary))
        name = os.path.basename(binary)

        r = check_config(binary, conf)
        check_eq((r.returncode, r.stdout.strip()), (0, name + ": configuration is valid"),
                 "%s --check-config --config deploy/%s (stderr %r)" % (name, conf.name, r.stderr))

        opts = help_options(binary)
        keys = file_keys(conf)
        listed = [k for _, k, _ in keys]
        check_eq(len(listed), len(set(listed)), "%s: a key listed twice: %r" % (conf.name, listed))
        want = set(opts) - NOT_IN_FILE - LEFT_OUT.get(name, set())
        check_eq(sorted(want - set(listed)), [], "%s: options of %s --help missing from the file" % (conf.name, name))
        check_eq(sorted(set(listed) - want), [], "%s: keys that are not options of %s" % (conf.name, name))
        for commented, key, value in keys:
            default = opts[key]
            if commented and default is not None:
                check_eq(normal(value), normal(default), "%s: #%s is not at %s's default" % (conf.name, key, name))
            if commented and default is None:  # no default shown: an empty string or an off flag
                check(value in ("", "false"), "%s: #%s = %r, but %s shows no default" % (conf.name, key, value, name))

        with tempfile.TemporaryDirectory() as tmp:
            on = Path(tmp) / ("all-on-" + conf.name)
            # `#key = ""` means unset; an endpoint option refuses an empty value, so those stay commented out.
            on.write_text(re.sub(r'^#([a-z][a-z0-9-]* = (?!""$))', r"\1", conf.read_text(), flags=re.M))
            r = check_config(binary, on)
            check_eq(r.returncode, 0, "%s with every key uncommented: --check-config (stderr %r)" % (conf.name, r.stderr))
            typo = Path(tmp) / ("typo-" + conf.name)
            typo.write_text(conf.read_text() + 'log-levl = "debug"\n')
            r = check_config(binary, typo)
            check(r.returncode != 0, "%s with a misspelt key passed --check-config" % conf.name)
            check("log-levl" in r.stderr + r.stdout, "the misspelt key is not named: %r" % (r.stderr + r.stdout))


if __name__ == "__main__":
    run_checks([("deploy/*.conf: valid, every option of the binary listed at its default", every_file_against_its_binary)],
               cluster_factory=lambda: contextlib.nullcontext(None))
