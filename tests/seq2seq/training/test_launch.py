import dataclasses
import json

import pytest

from data_prep.errors import S2SError
from seq2seq.training.launch import MASTER_PORT, Cluster, torchrun_command
from seq2seq.training.train import TrainConfig

CONFIG = TrainConfig(prepared="/opt/ml/checkpoints/prepared", output="/opt/ml/checkpoints/run", preset="base")


def _flags(command: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in command if arg.startswith("--") and "=" in arg)


def test_one_gpu_trains_in_process():
    assert not Cluster(processes_per_host=1).distributed


def test_eight_gpus_on_one_host():
    cluster = Cluster(processes_per_host=8)
    assert cluster.distributed
    command = torchrun_command(cluster, CONFIG)
    assert command[1:3] == ["-m", "torch.distributed.run"]
    assert _flags(command) == {"nnodes": "1", "node_rank": "0", "nproc_per_node": "8",
                               "master_addr": "localhost", "master_port": str(MASTER_PORT)}
    assert command[-3:-1] == ["-m", "seq2seq.training.train_worker"]
    assert json.loads(command[-1])["preset"] == "base"


def test_two_hosts_of_eight_gpus_from_sagemakers_resource_config(tmp_path):
    path = tmp_path / "resourceconfig.json"
    commands = {}
    for host in ("algo-1", "algo-2"):
        # SageMaker may list hosts in any order; every host must agree on the ranks.
        path.write_text(json.dumps({"current_host": host, "hosts": ["algo-2", "algo-1"]}))
        cluster = Cluster.from_resource_config(path, processes_per_host=8)
        commands[host] = _flags(torchrun_command(cluster, CONFIG))
        assert cluster.is_primary_host == (host == "algo-1")
    for host, rank in (("algo-1", "0"), ("algo-2", "1")):
        assert commands[host] == {"nnodes": "2", "node_rank": rank, "nproc_per_node": "8",
                                  "master_addr": "algo-1", "master_port": str(MASTER_PORT)}


def test_a_broken_resource_config_is_named(tmp_path):
    path = tmp_path / "resourceconfig.json"
    path.write_text(json.dumps({"current_host": "algo-3", "hosts": ["algo-1"]}))
    with pytest.raises(S2SError, match="current_host 'algo-3' is not among hosts"):
        Cluster.from_resource_config(path, 1)
    path.write_text("{")
    with pytest.raises(S2SError, match="not a valid resource config"):
        Cluster.from_resource_config(path, 1)


def test_gpus_train_in_bfloat16_where_supported(monkeypatch, tmp_path):
    import torch

    from data_prep.prepared_dir import PreparedDir
    from seq2seq.training.train import sockeye_arguments
    from seq2seq.versions.run_dir import RunDir

    def args_for(config: TrainConfig) -> list[str]:
        return sockeye_arguments(config, PreparedDir(tmp_path), RunDir(tmp_path / "run"), shared_vocab=True)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    # Sockeye's training ignores --dtype; its mixed precision (--amp) is what train() turns into bfloat16.
    args = args_for(CONFIG)
    assert "--use-cpu" not in args and "--amp" in args and "--dtype" not in args
    assert "--amp" not in args_for(dataclasses.replace(CONFIG, precision="float32"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)  # before Ampere
    assert "--amp" not in args_for(CONFIG)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = args_for(CONFIG)
    assert "--use-cpu" in args and "--amp" not in args
    with pytest.raises(S2SError, match="unknown precision 'fp8'; choose one of: auto, float32, bfloat16"):
        args_for(dataclasses.replace(CONFIG, precision="fp8"))
