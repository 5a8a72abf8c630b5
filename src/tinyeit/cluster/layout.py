"""Where the local cluster keeps its files, and the config files that tie its daemons together.

Everything lives under one folder (default `.cluster/` in the project, or TINYEIT_CLUSTER_DIR):
nothing goes to /etc, so the cluster does not touch a system SLURM or munge and `rm -rf` of the
folder removes it. Slurm finds its config through SLURM_CONF; slurmdbd.conf sits beside it.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

CLUSTER_NAME = "tinyeit"
PARTITION = "tinyeit"
ACCOUNT = "tinyeit"
DB_PORT = 33061  # not MariaDB's default, so a system database on 3306 is left alone
DEF_MEM_PER_CPU_MB = 1000  # a job that asks for no memory would otherwise take the whole node


def default_root() -> Path:
    """TINYEIT_CLUSTER_DIR, else `.cluster/` in the project (next to the Makefile)."""
    if os.environ.get("TINYEIT_CLUSTER_DIR"):
        return Path(os.environ["TINYEIT_CLUSTER_DIR"]).resolve()
    return Path(__file__).resolve().parents[3] / ".cluster"


@dataclass(frozen=True)
class Layout:
    """The cluster's folder and the files in it."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def slurm_conf(self) -> Path:
        return self.etc / "slurm.conf"

    @property
    def dbd_conf(self) -> Path:
        return self.etc / "slurmdbd.conf"

    @property
    def bin(self) -> Path:
        """Client helpers that go first on PATH (the srun wrapper)."""
        return self.root / "bin"

    @property
    def run(self) -> Path:
        """Pid files: what `up` started, and so what `down` stops."""
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def munge_key(self) -> Path:
        return self.root / "munge" / "munge.key"

    @property
    def munge_socket(self) -> Path:
        return self.root / "munge" / "socket" / "munge.socket"

    @property
    def db_data(self) -> Path:
        return self.root / "mariadb"

    @property
    def db_socket(self) -> Path:
        return self.run / "mariadb.sock"

    def pidfile(self, daemon: str) -> Path:
        return self.run / f"{daemon}.pid"

    def logfile(self, daemon: str) -> Path:
        return self.log / f"{daemon}.log"

    def make_dirs(self) -> None:
        for d in (self.etc, self.bin, self.run, self.log, self.db_data, self.root / "state",
                  self.root / "spool", self.munge_key.parent):
            d.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.munge_key.parent.chmod(0o700)
        # munged refuses a socket folder that others may write to; clients must reach it.
        self.munge_socket.parent.mkdir(mode=0o755, exist_ok=True)
        self.munge_socket.parent.chmod(0o755)
        self.etc.chmod(0o755)


def db_password(layout: Layout) -> str:
    """The database password slurmdbd uses: kept from an earlier slurmdbd.conf, else a new one."""
    if layout.dbd_conf.exists():
        found = re.search(r"^StoragePass=(\S+)$", layout.dbd_conf.read_text(), flags=re.M)
        if found:
            return found.group(1)
    return secrets.token_hex(16)


def node_line(slurmd_c: str) -> str:
    """The node definition from `slurmd -C` (its first line), reached on the loopback address."""
    first = slurmd_c.strip().splitlines()[0] if slurmd_c.strip() else ""
    if not first.startswith("NodeName="):
        raise ValueError(f"`slurmd -C` printed no node definition: {slurmd_c.strip()[:300]!r}")
    return f"{first} NodeAddr=127.0.0.1 State=UNKNOWN"


def node_name(slurmd_c: str) -> str:
    return node_line(slurmd_c).split()[0].split("=", 1)[1]


def slurm_conf(layout: Layout, node: str, host: str) -> str:
    """slurm.conf for one node running every daemon, without systemd or cgroups."""
    r = layout.root
    sock = layout.munge_socket
    return f"""\
# Written by `python -m tinyeit.cluster up`: a single-node cluster, all files under {r}.
ClusterName={CLUSTER_NAME}
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={layout.pidfile("slurmctld")}
SlurmdPidFile={layout.pidfile("slurmd")}
SlurmctldLogFile={layout.logfile("slurmctld")}
SlurmdLogFile={layout.logfile("slurmd")}
# No systemd, no cgroups: processes are tracked through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={DEF_MEM_PER_CPU_MB}
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
# Accounting through slurmdbd, so that sacct (which Snakemake's executor polls) works. The link
# from slurmctld to slurmdbd ignores AuthInfo: it takes the munge socket from here.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePass={sock}
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
{node}
PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def slurmdbd_conf(layout: Layout, password: str) -> str:
    return f"""\
# Written by `python -m tinyeit.cluster up` (mode 600: it holds the database password).
AuthType=auth/munge
AuthInfo=socket={layout.munge_socket}
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile={layout.pidfile("slurmdbd")}
LogFile={layout.logfile("slurmdbd")}
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={DB_PORT}
StorageUser=slurm
StoragePass={password}
StorageLoc=slurm_acct_db
"""


def srun_wrapper(layout: Layout) -> str:
    """Snakemake's in-job step (slurm-jobstep) clears every SLURM_* variable, SLURM_CONF too,
    before it calls `srun`; with the config outside /etc/slurm, this wrapper restores it."""
    return f"""#!/bin/sh
# srun for the tinyeit local cluster: its config is not in /etc/slurm.
SLURM_CONF={layout.slurm_conf}
export SLURM_CONF
exec /usr/bin/srun "$@"
"""


def _write(path: Path, data: bytes, mode: int) -> None:
    """Whole file with this mode from the start (atomic.write_* would give it 0644 first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_configs(layout: Layout, slurmd_c: str, host: str) -> None:
    """(Re)write slurm.conf, slurmdbd.conf and the srun wrapper; same inputs give the same files."""
    layout.make_dirs()
    password = db_password(layout)
    _write(layout.slurm_conf, slurm_conf(layout, node_line(slurmd_c), host).encode(), 0o644)
    _write(layout.dbd_conf, slurmdbd_conf(layout, password).encode(), 0o600)
    _write(layout.bin / "srun", srun_wrapper(layout).encode(), 0o755)
    if not layout.munge_key.exists():
        _write(layout.munge_key, secrets.token_bytes(1024), 0o400)
