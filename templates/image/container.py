"""container.py: run an OCI image as a container runtime would, with the tools
of a plain Debian 12 machine (as root).  Used by test-image.py; also a
command line (see the end of this file).

umoci unpacks the image into a bundle: the root filesystem and the runtime
configuration umoci derives from the image's config (entry point and
arguments, environment, the user resolved through the image's /etc/passwd,
working directory).  Each container then gets

  unshare --mount --pid --ipc --uts --fork --kill-child
      its own mount, process (the entry point is PID 1), IPC and host-name
      namespaces; killing unshare kills every process of the container;
  overlayfs      the bundle's rootfs read-only below a fresh upper directory,
                 so each container starts from the image as built;
  /proc, a small /dev (null zero full random urandom tty, shm, fd links),
  /etc/hosts, /etc/hostname, /etc/resolv.conf; volumes bind-mounted read-only;
  env -i CONFIG-ENV setpriv --no-new-privs chroot --userspec=UID:GID --groups=GID ROOTFS ENTRYPOINT ARGS
      the configured environment only, the configured user (or any uid, as
      OpenShift assigns one), no way to gain privileges by exec.

`exec` enters a running container (nsenter into its namespaces and root, as
its user, with its environment) as `oc exec`/`podman exec` do.

Why not crun, runc or podman: on machines with a hybrid cgroup v1/v2
hierarchy (as this one), crun refuses to start ("cgroups in hybrid mode not
supported"), and runc and podman would create cgroups in the host's
hierarchy; the tests must not change anything of the host.  The network is
the caller's: test-image.py runs in a network namespace of its own (only
`lo`), so the container's port 9090 is its own and no host port is used.
"""

import ctypes
import json
import os
import shlex
import signal
import socket
import subprocess
import time

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def unpack(layout, tag, bundle):
    """umoci unpack LAYOUT:TAG into the bundle directory (created)."""
    subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (layout, tag), bundle],
                   check=True, capture_output=True)
    return bundle


def resolve_in_root(root, path):
    """path inside the container, its symlinks resolved within root (as a
    runtime resolves mount targets: /var/run -> /run stays inside root)."""
    parts = [p for p in path.split("/") if p]
    done = []
    hops = 0
    while parts:
        p = parts.pop(0)
        if p == ".":
            continue
        if p == "..":
            if done:
                done.pop()
            continue
        cand = os.path.join(root, *done, p)
        if os.path.islink(cand):
            hops += 1
            if hops > 40:
                raise ValueError("%s: too many symlinks" % path)
            target = os.readlink(cand)
            if target.startswith("/"):
                done = []
            parts = [t for t in target.split("/") if t] + parts
            continue
        done.append(p)
    return "/" + "/".join(done)


def _pdeathsig():
    # the container goes when the process that started it goes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Container:
    def __init__(self, bundle, workdir, name="registry-console", uid=None, gid=None,
                 env=None, volumes=(), args=()):
        """volumes: (host path, container path) pairs, mounted read-only.
        env: variables added to (or replacing) the image's."""
        with open(os.path.join(bundle, "config.json")) as f:
            self.spec = json.load(f)
        proc = self.spec["process"]
        self.lower = os.path.join(bundle, self.spec["root"]["path"])
        self.workdir = workdir
        self.name = name
        self.uid = proc["user"]["uid"] if uid is None else uid
        self.gid = proc["user"]["gid"] if gid is None else gid
        merged = dict(e.split("=", 1) for e in proc["env"])
        merged.update(env or {})
        self.env = merged
        self.argv = list(proc["args"]) + list(args)
        if proc.get("cwd", "/") != "/":
            raise ValueError("working directory %s: only / is supported" % proc["cwd"])
        self.volumes = list(volumes)
        self.proc = None
        self.pid = None
        self.log = os.path.join(workdir, "console.log")
        self.started = None

    # -- paths
    @property
    def upper(self):
        return os.path.join(self.workdir, "upper")

    def file(self, path):
        """Host path of a container file as it is now (written, else from the image)."""
        up = os.path.join(self.upper, path.lstrip("/"))
        return up if os.path.lexists(up) else os.path.join(self.lower, path.lstrip("/"))

    def _script(self):
        m = os.path.join(self.workdir, "rootfs")
        q = shlex.quote
        lines = [
            "set -e",
            "mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s"
            % (q(self.lower), q(self.upper), q(os.path.join(self.workdir, "work")), q(m)),
            "mount -t proc -o nosuid,noexec,nodev proc %s/proc" % q(m),
            "mount -t tmpfs -o nosuid,noexec,mode=755,size=64k tmpfs %s/dev" % q(m),
        ]
        for d in DEVICES:
            lines.append("touch %s/dev/%s && mount --bind /dev/%s %s/dev/%s" % (q(m), d, d, q(m), d))
        lines += [
            "mkdir %s/dev/shm %s/dev/pts" % (q(m), q(m)),
            "mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=64m shm %s/dev/shm" % q(m),
            "ln -s /proc/self/fd %s/dev/fd" % q(m),
        ]
        for i, n in enumerate(("stdin", "stdout", "stderr")):
            lines.append("ln -s /proc/self/fd/%d %s/dev/%s" % (i, q(m), n))
        etc = [(os.path.join(self.workdir, n), "/etc/" + n) for n in ("hosts", "hostname", "resolv.conf")]
        for src, dst in etc + self.volumes:
            # never let a symlink in the image send a mount point to the host
            t = q(m + resolve_in_root(self.lower, dst))
            if os.path.isdir(src):
                lines.append("mkdir -p %s" % t)
            else:
                lines.append("mkdir -p %s && { [ -f %s ] && [ ! -L %s ] || { rm -f %s && touch %s; }; }"
                             % (q(os.path.dirname(m + resolve_in_root(self.lower, dst))), t, t, t, t))
            lines.append("mount --bind %s %s && mount -o remount,bind,ro %s" % (q(src), t, t))
        lines.append("hostname %s" % q(self.name))
        env = ["%s=%s" % kv for kv in self.env.items()]
        lines.append("exec env -i %s setpriv --no-new-privs chroot --userspec=%d:%d --groups=%d %s %s"
                     % (" ".join(q(e) for e in env), self.uid, self.gid, self.gid, q(m),
                        " ".join(q(a) for a in self.argv)))
        return "\n".join(lines)

    # -- life cycle
    def start(self):
        for d in ("upper", "work", "rootfs"):
            os.makedirs(os.path.join(self.workdir, d))
        with open(os.path.join(self.workdir, "hostname"), "w") as f:
            f.write(self.name + "\n")
        with open(os.path.join(self.workdir, "hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                    "127.0.1.1\t%s\n" % self.name)
        with open(os.path.join(self.workdir, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")  # nothing to resolve in the test's network
        logf = open(self.log, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
             "--propagation", "private", "--", "/bin/sh", "-c", self._script()],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, preexec_fn=_pdeathsig)
        logf.close()
        end = time.monotonic() + 10
        children = "/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)
        while self.pid is None:
            try:
                with open(children) as f:
                    kids = f.read().split()
                if kids:
                    self.pid = int(kids[0])
                    break
            except FileNotFoundError:
                pass
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("container %s did not start:\n%s" % (self.name, self.log_tail()))
            time.sleep(0.001)  # poll interval
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except FileNotFoundError:
            return ""

    def wait_ping(self, port=9090, deadline=20.0):
        """Seconds from start() to the first 200 answer of plain GET /ping."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if not self.running():
                raise RuntimeError("container %s exited with %s:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            status, _ = http_get(port, "/ping")
            if status == 200:
                return time.monotonic() - self.started
            time.sleep(0.002)  # poll interval, not a readiness guess
        raise RuntimeError("container %s: no /ping within %.0f s:\n%s" % (self.name, deadline, self.log_tail()))

    def exec(self, argv, uid=None, gid=None, timeout=30):
        """Run argv inside the container as its user (oc exec): CompletedProcess."""
        uid = self.uid if uid is None else uid
        gid = self.gid if gid is None else gid
        return subprocess.run(
            ["setpriv", "--no-new-privs", "nsenter", "--target", str(self.pid), "--mount", "--uts",
             "--ipc", "--pid", "--root", "--wd", "--setuid", str(uid), "--setgid", str(gid), "--"] + argv,
            env=self.env, capture_output=True, text=True, timeout=timeout)

    def stop(self, deadline=10.0):
        """SIGTERM to the container's PID 1 (as a runtime's stop does); SIGKILL
        after the deadline.  Returns (exit status, seconds, killed)."""
        if self.proc is None:
            return None, 0.0, False
        t0 = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(deadline)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()  # unshare --kill-child takes the container with it
                self.proc.wait()
        return self.proc.returncode, time.monotonic() - t0, killed


def http_get(port, path, host="127.0.0.1", timeout=2.0):
    """(status, raw response) of a plain HTTP/1.1 GET, or (None, b"")."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                       % (path, host, port)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None, b""
    try:
        return int(data.split(b" ", 2)[1]), data
    except (IndexError, ValueError):
        return None, data


if __name__ == "__main__":
    # python3 container.py OCI-LAYOUT TAG WORKDIR [ARGS...]: unpack the image
    # into WORKDIR and run it in the foreground, in the caller's network (give
    # --port to use another port than 9090), until Ctrl-C; WORKDIR stays.
    import sys
    if len(sys.argv) < 4:
        sys.exit("usage: container.py OCI-LAYOUT TAG WORKDIR [ARGS...]")
    work = os.path.abspath(sys.argv[3])
    c = Container(unpack(sys.argv[1], sys.argv[2], os.path.join(work, "bundle")),
                  os.path.join(work, "container"), args=sys.argv[4:])
    c.start()
    print("container: pid %d, log %s; Ctrl-C stops it" % (c.pid, c.log), flush=True)
    try:
        c.proc.wait()
    except KeyboardInterrupt:
        code, secs, killed = c.stop()
        print("stopped: exit %s after %.2f s%s" % (code, secs, " (killed)" if killed else ""))
