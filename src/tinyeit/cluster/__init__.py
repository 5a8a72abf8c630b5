"""A real single-node SLURM cluster on this machine, for running and testing the study on SLURM.

Built from Debian's packages (munge, MariaDB, slurmdbd, slurmctld, slurmd) with every config,
state and log file under one project-owned folder (`Layout`), no systemd and no cgroups, so it
runs in a plain container or VM as root. `up` starts what is not running, `down` stops what `up`
started (pid files), both idempotent. The client commands (sbatch, sacct, ...) need
`client_env()`: SLURM_CONF pointing at the folder, and an `srun` wrapper first on PATH.
"""
from tinyeit.cluster.layout import Layout, default_root
from tinyeit.cluster.control import ClusterError, client_env, down, running, up

__all__ = ["ClusterError", "Layout", "client_env", "default_root", "down", "running", "up"]
