"""The local cluster's config files and pid-file bookkeeping, without starting any daemon."""
from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinyeit.cluster import ClusterError, Layout, control, down, layout, running, up
from tinyeit.cluster.__main__ import main

SLURMD_C = ("NodeName=node7 CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 "
            "RealMemory=15890\nUpTime=3-01:02:03\n")


def test_node_definition_comes_from_slurmd_and_is_reached_on_loopback():
    assert layout.node_line(SLURMD_C) == (
        "NodeName=node7 CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 "
        "RealMemory=15890 NodeAddr=127.0.0.1 State=UNKNOWN")
    assert layout.node_name(SLURMD_C) == "node7"
    with pytest.raises(ValueError, match="no node definition"):
        layout.node_line("slurmd: error: something else\n")


def test_configs_keep_everything_in_the_folder_and_the_password_private(tmp_path):
    lay = Layout(tmp_path / "c")
    layout.write_configs(lay, SLURMD_C, "node7")
    conf = lay.slurm_conf.read_text()
    for line in ("ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
                 f"DefMemPerCPU={layout.DEF_MEM_PER_CPU_MB}", "AccountingStoreFlags=job_comment",
                 f"AuthInfo=socket={lay.munge_socket}", f"AccountingStoragePass={lay.munge_socket}",
                 "SlurmctldHost=node7(127.0.0.1)", "NodeName=node7 CPUs=4"):
        assert line in conf, line
    paths = [p.rsplit("=", 1)[1] for p in conf.split() if "=/" in p and not p.startswith("MailProg")]
    assert paths and all(p.startswith(str(lay.root)) for p in paths), paths
    assert stat.S_IMODE(lay.dbd_conf.stat().st_mode) == 0o600
    assert stat.S_IMODE(lay.munge_key.stat().st_mode) == 0o400
    password = layout.db_password(lay)
    key = lay.munge_key.read_bytes()
    assert f"StoragePass={password}\n" in lay.dbd_conf.read_text()
    layout.write_configs(lay, SLURMD_C, "node7")
    assert layout.db_password(lay) == password and lay.munge_key.read_bytes() == key
    assert lay.slurm_conf.read_text() == conf


def test_srun_wrapper_restores_slurm_conf(tmp_path):
    """slurm-jobstep removes SLURM_CONF before calling srun: the wrapper must put it back."""
    lay = Layout(tmp_path / "c")
    layout.write_configs(lay, SLURMD_C, "node7")
    wrapper = lay.bin / "srun"
    assert wrapper.stat().st_mode & stat.S_IXUSR
    probe = tmp_path / "probe.sh"  # the wrapper's text with the real srun swapped for `env`
    probe.write_text(wrapper.read_text().replace("exec /usr/bin/srun", "exec env"))
    out = subprocess.run(["sh", str(probe)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
                         check=True, timeout=60).stdout
    assert f"SLURM_CONF={lay.slurm_conf}" in out.splitlines()


def test_client_env_points_slurm_and_path_at_the_cluster(tmp_path):
    lay = Layout(tmp_path / "c")
    env = control.client_env(lay, base={"PATH": "/usr/bin", "HOME": "/root"})
    assert env == {"PATH": f"{lay.bin}:/usr/bin", "HOME": "/root", "SLURM_CONF": str(lay.slurm_conf)}


def test_up_refuses_without_root(monkeypatch, tmp_path):
    monkeypatch.setattr(control.os, "geteuid", lambda: 1000)
    with pytest.raises(ClusterError, match="needs root.*sudo make cluster-up"):
        up(Layout(tmp_path / "c"))
    assert not (tmp_path / "c").exists()


def test_up_refuses_off_debian(monkeypatch, tmp_path):
    monkeypatch.setattr(control.os, "geteuid", lambda: 0)
    monkeypatch.setattr(control.shutil, "which", lambda name: None)
    with pytest.raises(ClusterError, match="Debian's packages.*not Debian"):
        up(Layout(tmp_path / "c"))
    assert not (tmp_path / "c").exists()


def test_down_stops_only_processes_named_in_its_pid_files(tmp_path):
    """A pid file naming another program (a reused pid) is stale: nothing is killed."""
    lay = Layout(tmp_path / "c")
    lay.run.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lay.pidfile("slurmd").write_text(f"{other.pid}\n")
        lay.pidfile("munged").write_text("999999999\n")
        assert running(lay) == {}
        assert down(lay) == []
        assert other.poll() is None
        assert not lay.pidfile("slurmd").exists() and not lay.pidfile("munged").exists()
    finally:
        other.kill()
        other.wait()


def test_down_stops_a_daemon_it_started(tmp_path):
    """A live process whose name matches its pid file is stopped, and its pid file removed."""
    if control.os.geteuid() != 0:
        pytest.skip("down() needs root to stop a daemon")
    lay = Layout(tmp_path / "c")
    lay.run.mkdir(parents=True)
    sleeper = tmp_path / "slurmd"  # a process named like the daemon
    shutil.copy("/bin/sleep", sleeper)
    proc = subprocess.Popen([str(sleeper), "60"])
    comm = Path(f"/proc/{proc.pid}/comm")
    for _ in range(100):  # until the child has exec'd
        if comm.read_text().strip() == "slurmd":
            break
        time.sleep(0.05)
    lay.pidfile("slurmd").write_text(f"{proc.pid}\n")
    assert running(lay) == {"slurmd": proc.pid}
    assert down(lay) == ["slurmd"]
    proc.wait(timeout=10)  # down() may have reaped it already (it is our child here)
    assert not Path(f"/proc/{proc.pid}").exists()
    assert down(lay) == []


def test_cli_usage_and_status(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYEIT_CLUSTER_DIR", str(tmp_path / "c"))
    assert main(["sideways"]) == 2
    assert "usage: python -m tinyeit.cluster up|down|status|env" in capsys.readouterr().err
    assert main(["status"]) == 3
    assert main(["down"]) == 0
    assert "nothing to stop" in capsys.readouterr().err
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert f"export SLURM_CONF={tmp_path / 'c' / 'etc' / 'slurm.conf'}" in out
    assert f"export PATH={tmp_path / 'c' / 'bin'}:\"$PATH\"" in out
