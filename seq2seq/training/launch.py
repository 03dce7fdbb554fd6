"""Training on every GPU of every host: torchrun runs one `seq2seq.training.train_worker` per process.

On SageMaker, /opt/ml/input/config/resourceconfig.json names the hosts and this host; the
first host (in sorted order, the same on every host) is the rendezvous master.
"""
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.training.stopping import TrainingInterrupted
from seq2seq.training.train import TrainConfig, train
from seq2seq.versions.run_dir import RunDir

logger = logging.getLogger(__name__)

MASTER_PORT = 29500
WORKER_MODULE = "seq2seq.training.train_worker"


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...] = ("localhost",)
    current_host: str = "localhost"
    processes_per_host: int = 1

    def __post_init__(self):
        if self.processes_per_host < 1:
            raise S2SError(f"training processes per host must be at least 1, not {self.processes_per_host}")

    @classmethod
    def from_resource_config(cls, path: Path, processes_per_host: int) -> "Cluster":
        if not path.is_file():
            return cls(processes_per_host=processes_per_host)
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
            hosts, current = tuple(sorted(config["hosts"])), config["current_host"]
        except (ValueError, KeyError) as e:
            raise S2SError(f"{path}: not a valid resource config ({e})") from None
        if current not in hosts:
            raise S2SError(f"{path}: current_host {current!r} is not among hosts {list(hosts)}")
        return cls(hosts, current, processes_per_host)

    @property
    def distributed(self) -> bool:
        return len(self.hosts) > 1 or self.processes_per_host > 1

    @property
    def node_rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def is_primary_host(self) -> bool:
        return self.node_rank == 0


def processes_per_host(requested: int | None = None) -> int:
    """`requested`, or else one process per visible GPU; one on a CPU machine."""
    import torch

    return requested if requested is not None else max(torch.cuda.device_count(), 1)


def torchrun_command(cluster: Cluster, config: TrainConfig) -> list[str]:
    """The command that runs `config` on every process of every host, with Sockeye's --dist."""
    worker_config = json.dumps(asdict(config), default=str)
    return [sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={len(cluster.hosts)}", f"--node_rank={cluster.node_rank}",
            f"--nproc_per_node={cluster.processes_per_host}",
            f"--master_addr={cluster.hosts[0]}", f"--master_port={MASTER_PORT}",
            "-m", WORKER_MODULE, worker_config]


def worker_failure_file(stop_file: Path, local_rank: int) -> Path:
    """Where a failed torchrun worker leaves its reason for the parent: beside the stop file."""
    return stop_file.with_name(f"failure.{local_rank}")


def train_on(cluster: Cluster, config: TrainConfig) -> dict | None:
    """Trains on every process of `cluster`: in this process when it is the only one, else under
    torchrun. Returns run.json's contents, or None on a host other than the primary."""
    if not cluster.distributed:
        return train(config)
    with tempfile.TemporaryDirectory(prefix="s2s-stop-") as folder:
        _train_with_torchrun(cluster, dataclasses.replace(config, stop_file=Path(folder) / "stop"))
    run = RunDir(config.output)
    return run.read_summary() if run.summary.is_file() else None


def _train_with_torchrun(cluster: Cluster, config: TrainConfig) -> None:
    command = torchrun_command(cluster, config)
    logger.info("distributed training: %s", " ".join(command[:8]))
    # Training logs go to stderr, as in a single process: stdout is for a command's results. torchrun's agent
    # makes a torchelastic_* directory in the temporary directory for every run and leaves it there (96 in
    # /tmp here after two days of tests): given the stop file's folder as TMPDIR, it goes with that folder.
    process = subprocess.Popen(command, stdout=sys.stderr, env=dict(os.environ, TMPDIR=str(config.stop_file.parent)))

    def ask_workers_to_stop(signum, frame):
        # Not SIGTERM to torchrun: it would kill workers that take over 30 s to save their checkpoint.
        config.stop_file.touch()

    previous = signal.signal(signal.SIGTERM, ask_workers_to_stop)
    try:
        returncode = process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if config.stop_file.exists():
        raise TrainingInterrupted.at_update(RunDir(config.output).saved_update())
    if returncode != 0:
        for local_rank in range(cluster.processes_per_host):
            reason = worker_failure_file(config.stop_file, local_rank)
            if reason.is_file():
                raise S2SError(reason.read_text(encoding="utf-8"))
        raise S2SError(f"distributed training failed (torchrun exited with {returncode}); the log above has the "
                       "error of the first process that failed")
