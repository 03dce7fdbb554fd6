"""`s2s train`: a Sockeye transformer on prepared data; unknown options go to sockeye-train."""
import argparse
from pathlib import Path

from s2s_cli.common import add_store


def cmd_train(args: argparse.Namespace) -> None:
    from seq2seq.training.launch import Cluster, processes_per_host, train_on
    from seq2seq.training.train import TrainConfig
    from seq2seq.versions.lineage import find_version

    init_from = find_version(args.store, args.init_from).path if args.init_from else None
    config = TrainConfig(prepared=args.prepared, output=args.output, preset=args.preset,
                         sockeye_args=tuple(args.passed_through), seed=args.seed, force=args.force,
                         resume=args.resume, early_stopping=args.early_stopping, average=args.average,
                         precision=args.precision, init_from=init_from)
    summary = train_on(Cluster(processes_per_host=processes_per_host(args.processes)), config)
    last = summary["checkpoints"][-1] if summary["checkpoints"] else {}
    print(f"trained {summary['updates']} updates into {args.output}; "
          f"last validation BLEU {last.get('validation_bleu', 'n/a')}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    from seq2seq.training.precision import PRECISIONS
    from seq2seq.training.presets import PRESET_CHOICES, presets_help
    from seq2seq.training.train import TrainConfig

    p = sub.add_parser("train", help="train a Sockeye transformer on prepared data",
                       description="Train a Sockeye transformer. Any option not listed here is passed to "
                       "sockeye-train and overrides the preset, e.g. `--max-updates 200`. BLEU on the dev set "
                       "is reported at each checkpoint.",
                       epilog=presets_help())
    p.add_argument("prepared", type=Path, help="directory written by `s2s prepare`")
    p.add_argument("--output", "-o", type=Path, required=True, help="run directory to create")
    p.add_argument("--preset", choices=PRESET_CHOICES, default=TrainConfig.preset,
                   help="model size and training settings; auto picks one from the corpus size and the device "
                   "(default: %(default)s)")
    p.add_argument("--seed", type=int, default=TrainConfig.seed, help="random seed (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in OUTPUT from its last checkpoint (SIGTERM stops training "
                   "at the next update and saves a checkpoint)")
    p.add_argument("--processes", type=int, metavar="N",
                   help="training processes, one per GPU; more than one runs torchrun with Sockeye's --dist "
                   "(default: one per visible GPU, or 1 on CPU)")
    p.add_argument("--precision", choices=PRECISIONS, default=TrainConfig.precision,
                   help="auto: bfloat16 mixed precision on GPUs that support it (Ampere and later), else float32 "
                   "(default: %(default)s)")
    p.add_argument("--average", type=int, metavar="N", default=TrainConfig.average,
                   help="average the N checkpoints with the best validation BLEU at the end, and keep the average "
                   "if it beats the best checkpoint on the dev set; 1 turns it off (default: %(default)s)")
    p.add_argument("--early-stopping", type=int, metavar="N",
                   help="stop when validation BLEU has not improved for N checkpoints")
    p.add_argument("--init-from", metavar="VERSION",
                   help="fine-tune a published version in --store: start from its weights, with its architecture "
                   "and a lower learning rate after a short warm-up (the preset gives the rest; auto: the "
                   "version's); PREPARED must come from `s2s prepare --subwords-from VERSION`")
    add_store(p)
    p.set_defaults(func=cmd_train, passed_through=[])
