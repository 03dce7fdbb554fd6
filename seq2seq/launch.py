"""Training on every GPU of every host: torchrun runs one `seq2seq.train_worker` per process.

On SageMaker, /opt/ml/input/config/resourceconfig.json names the hosts and this host; the
first host (in sorted order, the same on every host) is the rendezvous master.
"""
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from data_prep.errors import S2SError
from seq2seq.train import TrainConfig

MASTER_PORT = 29500
WORKER_MODULE = "seq2seq.train_worker"


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...] = ("localhost",)
    current_host: str = "localhost"
    processes_per_host: int = 1

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


def default_processes_per_host() -> int:
    """One process per visible GPU; one on a CPU machine."""
    import torch

    return max(torch.cuda.device_count(), 1)


def torchrun_command(cluster: Cluster, config: TrainConfig) -> list[str]:
    """The command that runs `config` on every process of every host, with Sockeye's --dist."""
    worker_config = json.dumps(asdict(config), default=str)
    return [sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={len(cluster.hosts)}", f"--node_rank={cluster.node_rank}",
            f"--nproc_per_node={cluster.processes_per_host}",
            f"--master_addr={cluster.hosts[0]}", f"--master_port={MASTER_PORT}",
            "-m", WORKER_MODULE, worker_config]
