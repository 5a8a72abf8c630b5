"""Start and stop the local cluster's daemons, in order, remembering each by its pid file.

Order up: munged (authentication), mariadbd (the accounting database), slurmdbd, slurmctld,
slurmd; down is the reverse. A daemon whose pid file names a live process of that name is left
as it is, so `up` and `down` can be repeated; `down` stops only the processes named in the pid
files `up` wrote, never a system daemon of the same name.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tinyeit.cluster import layout as lay
from tinyeit.cluster.layout import Layout
from tinyeit.errors import TinyEitError

ROOT = Path(__file__).resolve().parents[3]
PACKAGES_FILE = ROOT / "envs" / "cluster-debian-packages.txt"
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
COMMANDS = {"munged": "munge", "mariadbd": "mariadb-server", "mariadb-install-db": "mariadb-server",
            "slurmdbd": "slurmdbd", "slurmctld": "slurm-wlm", "slurmd": "slurm-wlm",
            "sacctmgr": "slurm-wlm", "sinfo": "slurm-wlm"}


class ClusterError(TinyEitError):
    """The local SLURM cluster cannot be started or stopped; the message says why and how."""


def client_env(layout: Layout | None = None, base: dict | None = None) -> dict[str, str]:
    """The environment for SLURM's client commands and for `snakemake --profile profiles/slurm`
    on this cluster: SLURM_CONF, and the srun wrapper first on PATH."""
    layout = layout or Layout(lay.default_root())
    env = dict(os.environ if base is None else base)
    env["SLURM_CONF"] = str(layout.slurm_conf)
    env["PATH"] = f"{layout.bin}{os.pathsep}{env.get('PATH', '')}"
    return env


def _pid(layout: Layout, daemon: str) -> int | None:
    """The live process named in `daemon`'s pid file, or None (a stale file is removed)."""
    pidfile = layout.pidfile(daemon)
    try:
        pid = int(pidfile.read_text().split()[0])
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        pidfile.unlink(missing_ok=True)
        return None
    if not daemon.startswith(comm) or state == "Z":  # comm is cut at 15 characters
        pidfile.unlink(missing_ok=True)
        return None
    return pid


def running(layout: Layout | None = None) -> dict[str, int]:
    """Daemon name -> pid, for each of this cluster's daemons that runs now."""
    layout = layout or Layout(lay.default_root())
    return {d: pid for d in DAEMONS if (pid := _pid(layout, d)) is not None}


def _check_host() -> None:
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        raise ClusterError(
            "the local SLURM cluster needs root: it installs Debian packages and runs system "
            "daemons (munged, mariadbd, slurmdbd, slurmctld, slurmd); run `sudo make cluster-up`, "
            "or run the study on an existing cluster with `snakemake --profile profiles/slurm`")
    if not (Path("/etc/debian_version").exists() and shutil.which("apt-get")):
        raise ClusterError(
            "the local SLURM cluster is built from Debian's packages (slurm-wlm, slurmdbd, munge, "
            "mariadb-server) and this is not Debian (no /etc/debian_version or apt-get); install "
            "SLURM with your system's tools, or use an existing cluster with profiles/slurm")


def packages() -> list[str]:
    lines = PACKAGES_FILE.read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _installed(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and "ok installed" in proc.stdout


def install_packages() -> list[str]:
    """apt-get install the packages of envs/cluster-debian-packages.txt that are missing."""
    missing = [p for p in packages() if not _installed(p)]
    if not missing:
        return []
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=600",
           "--no-install-recommends", *missing]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:  # a stale package index: refresh it once and retry
        subprocess.run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=600"],
                       capture_output=True, env=env)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise ClusterError(f"`{' '.join(cmd)}` failed (packages from {PACKAGES_FILE.name}): "
                           f"{proc.stderr.strip()[-800:]}")
    return missing


def _run(cmd: list[str], env: dict, what: str, timeout: float = 60, stdin: str | None = None) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, input=stdin)
    except FileNotFoundError:
        raise ClusterError(f"{what}: `{cmd[0]}` is not installed (Debian package "
                           f"{COMMANDS.get(cmd[0], '?')}); run `make cluster-up` as root") from None
    except subprocess.TimeoutExpired:
        raise ClusterError(f"{what}: `{' '.join(cmd)}` did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise ClusterError(f"{what}: `{' '.join(cmd)}` failed with code {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc.stdout


def _wait(check, what: str, layout: Layout, daemon: str, timeout: float = 60) -> None:
    """Poll `check()` until true; fail naming the daemon's log when it dies or never answers."""
    deadline = time.monotonic() + timeout
    seen = False
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, subprocess.SubprocessError):
            pass
        alive = _pid(layout, daemon) is not None
        if seen and not alive:
            raise ClusterError(f"{daemon} exited while starting ({what}); see {layout.logfile(daemon)}")
        seen = seen or alive
        time.sleep(0.25)
    raise ClusterError(f"{daemon} did not become ready within {timeout:.0f} s ({what}); "
                       f"see {layout.logfile(daemon)}")


def _quiet(cmd: list[str], env: dict) -> bool:
    return subprocess.run(cmd, capture_output=True, env=env, timeout=20).returncode == 0


# slurmdbd writes its pid file only once its database is ready; on a brand-new MariaDB it first
# creates every table, which took over 15 s on a loaded 2-core machine.
PIDFILE_WAIT_S = 90


def _start_forking(layout: Layout, daemon: str, cmd: list[str], env: dict) -> None:
    """Start a daemon that forks into the background and writes its own pid file."""
    log = layout.logfile(daemon)
    with open(log, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env, timeout=60, start_new_session=True)
    if proc.returncode != 0:
        raise ClusterError(f"{daemon} did not start (code {proc.returncode}); see {log}:\n"
                           + log.read_text(errors="replace")[-1500:])
    deadline = time.monotonic() + PIDFILE_WAIT_S
    while _pid(layout, daemon) is None:
        if time.monotonic() > deadline:
            raise ClusterError(f"{daemon} wrote no pid file {layout.pidfile(daemon)}; see {log}:\n"
                               + log.read_text(errors="replace")[-1500:])
        time.sleep(0.1)


def _start_munged(layout: Layout, env: dict) -> None:
    layout.munge_socket.unlink(missing_ok=True)
    _start_forking(layout, "munged", [
        "munged", f"--socket={layout.munge_socket}", f"--key-file={layout.munge_key}",
        f"--pid-file={layout.pidfile('munged')}", f"--log-file={layout.logfile('munged')}",
        f"--seed-file={layout.root / 'munge' / 'munged.seed'}", "--force"], env)


def _db_client(layout: Layout, sql: str, env: dict) -> None:
    """Run SQL as the database's root (socket authentication); on stdin, so that the password
    it may hold is not on a command line."""
    _run(["mariadb", "--no-defaults", f"--socket={layout.db_socket}", "-u", "root"],
         env, "setting up the accounting database", stdin=sql)


def _start_mariadbd(layout: Layout, env: dict) -> None:
    if not (layout.db_data / "mysql").is_dir():
        _run(["mariadb-install-db", "--no-defaults", f"--datadir={layout.db_data}", "--user=root",
              "--auth-root-authentication-method=socket", "--skip-test-db"], env,
             "creating the accounting database", timeout=180)
    log = layout.logfile("mariadbd")
    with open(log, "ab") as out:
        proc = subprocess.Popen([
            "mariadbd", "--no-defaults", f"--datadir={layout.db_data}", "--user=root",
            f"--socket={layout.db_socket}", f"--pid-file={layout.pidfile('mariadbd')}",
            "--bind-address=127.0.0.1", f"--port={lay.DB_PORT}", f"--log-error={log}"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
    ping = ["mariadb-admin", "--no-defaults", f"--socket={layout.db_socket}", "-u", "root", "ping"]
    deadline = time.monotonic() + 90
    while not (_pid(layout, "mariadbd") is not None and _quiet(ping, env)):
        if proc.poll() is not None:
            raise ClusterError(f"mariadbd exited with code {proc.returncode} while starting; see {log}:\n"
                               + log.read_text(errors="replace")[-1500:])
        if time.monotonic() > deadline:
            raise ClusterError(f"mariadbd did not answer mariadb-admin ping within 90 s; see {log}")
        time.sleep(0.25)


def _grant_slurmdbd(layout: Layout, env: dict) -> None:
    password = lay.db_password(layout)
    statements = ["CREATE DATABASE IF NOT EXISTS slurm_acct_db"]
    for host in ("localhost", "127.0.0.1"):
        user = f"'slurm'@'{host}'"
        statements += [f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{password}'",
                       f"ALTER USER {user} IDENTIFIED BY '{password}'",
                       f"GRANT ALL ON slurm_acct_db.* TO {user}"]
    _db_client(layout, "; ".join(statements) + ";", env)


def _start_slurm(layout: Layout, daemon: str, env: dict) -> None:
    _start_forking(layout, daemon, [daemon], env)


def _associations(env: dict) -> None:
    """The account jobs are charged to, and root (and the sudo user) in it: the executor plugin
    checks the account with sacctmgr before it submits."""
    out = _run(["sacctmgr", "-n", "-P", "show", "account", "format=account"], env, "listing accounts")
    if lay.ACCOUNT not in out.split():
        _run(["sacctmgr", "-i", "add", "account", lay.ACCOUNT, "Description=tinyeit study",
              "Organization=tinyeit"], env, "adding the account")
    users = ["root"] + ([os.environ["SUDO_USER"]] if os.environ.get("SUDO_USER") else [])
    out = _run(["sacctmgr", "-n", "-P", "show", "assoc", "format=user,account"], env, "listing users")
    for user in users:
        if f"{user}|{lay.ACCOUNT}" not in out.split():
            _run(["sacctmgr", "-i", "add", "user", user, f"Account={lay.ACCOUNT}",
                  f"DefaultAccount={lay.ACCOUNT}"], env, f"adding user {user}")


def _node_idle(env: dict) -> bool:
    proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True,
                          env=env, timeout=20)
    states = proc.stdout.split()
    return proc.returncode == 0 and bool(states) and all(
        s.rstrip("*") in ("idle", "mixed", "allocated") for s in states)


def up(layout: Layout | None = None, install: bool = True) -> list[str]:
    """Start every daemon that is not running (installing the packages first when missing);
    return the daemons started now. Waits until the node accepts jobs."""
    _check_host()
    layout = layout or Layout(lay.default_root())
    if install:
        install_packages()
    env = client_env(layout)
    slurmd_c = _run(["slurmd", "-C"], env, "reading this machine's CPUs and memory")
    layout.make_dirs()
    lay.write_configs(layout, slurmd_c, socket.gethostname())
    started = []
    if _pid(layout, "munged") is None:
        _start_munged(layout, env)
        started.append("munged")
    if _pid(layout, "mariadbd") is None:
        _start_mariadbd(layout, env)
        started.append("mariadbd")
    _grant_slurmdbd(layout, env)
    if _pid(layout, "slurmdbd") is None:
        _start_slurm(layout, "slurmdbd", env)
        started.append("slurmdbd")
    _wait(lambda: _quiet(["sacctmgr", "-n", "show", "cluster"], env),
          "sacctmgr cannot reach it", layout, "slurmdbd")
    clusters = _run(["sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"], env, "listing clusters")
    if lay.CLUSTER_NAME not in clusters.split():
        _run(["sacctmgr", "-i", "add", "cluster", lay.CLUSTER_NAME], env, "registering the cluster")
    _associations(env)
    for daemon in ("slurmctld", "slurmd"):
        if _pid(layout, daemon) is None:
            _start_slurm(layout, daemon, env)
            started.append(daemon)
    _wait(lambda: _node_idle(env), "the node never became idle in sinfo", layout, "slurmd", timeout=90)
    return started


def _stop(layout: Layout, daemon: str, timeout: float = 30) -> bool:
    pid = _pid(layout, daemon)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid(layout, daemon) is not None and os.path.exists(f"/proc/{pid}"):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline += 10
        try:  # reap it when it is our own child (a zombie would look alive)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    layout.pidfile(daemon).unlink(missing_ok=True)
    return True


def down(layout: Layout | None = None, only: list[str] | None = None) -> list[str]:
    """Stop the daemons `up` started (those named by the pid files), in reverse order, or only
    the daemons in `only` (what one `up` call returned); return those stopped."""
    layout = layout or Layout(lay.default_root())
    alive = {d: pid for d, pid in running(layout).items() if only is None or d in only}
    if not alive:
        return []
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        raise ClusterError(f"stopping the local SLURM cluster ({', '.join(alive)}) needs root: "
                           "run `sudo make cluster-down`")
    return [d for d in reversed(DAEMONS) if d in alive and _stop(layout, d)]
