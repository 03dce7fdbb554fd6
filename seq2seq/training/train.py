"""`s2s train`: a Sockeye transformer from a prepared directory, scored at each checkpoint."""
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from data_prep.errors import S2SError, disk_full
from data_prep.prepared_dir import PreparedDir
from data_prep.sockeye_logging import restored_logging
from data_prep.subwords import SubwordPair, Subwords
from seq2seq.training.curve import plot_training_curve
from seq2seq.training.finetune import Parent
from seq2seq.training.metrics import log_metric
from seq2seq.training.precision import resolve_precision, restored_tf32, sockeye_amp_in_bfloat16
from seq2seq.training.presets import DEFAULT_PRESET, FINETUNE, choose_preset, get_preset
from seq2seq.training.stopping import stop_on_sigterm
from seq2seq.versions.run_dir import RunDir
from seq2seq.versions.scoring import score

logger = logging.getLogger(__name__)

# Sockeye's checkpoint decoder translates this many dev sentences at each checkpoint.
DEFAULT_DEV_SENTENCES = 200


@dataclass(frozen=True)
class TrainConfig:
    prepared: Path
    output: Path
    # A preset's name, or "auto": by corpus size on a GPU, tiny on a CPU (seq2seq/training/presets.py).
    preset: str = DEFAULT_PRESET
    sockeye_args: tuple[str, ...] = ()  # passed through to sockeye-train; they win over the preset
    dev_sentences: int = DEFAULT_DEV_SENTENCES
    seed: int = 1
    force: bool = False
    # Continue from the training state that an interrupted run left in OUTPUT, if there is one.
    resume: bool = False
    # Stop when validation BLEU has not improved for this many checkpoints.
    early_stopping: int | None = None
    # Average this many best checkpoints at the end, and keep the average if it scores better.
    average: int = 4
    # auto: bfloat16 mixed precision on GPUs that support it, else float32 (seq2seq/training/precision.py).
    precision: str = "auto"
    # Under torchrun, the parent creates this file to stop training, as SIGTERM does in a single
    # process: SageMaker signals only the parent (see seq2seq/training/stopping.py).
    stop_file: Path | None = None
    # A published version's directory to continue from, with fine-tuning settings (seq2seq/training/finetune.py).
    init_from: Path | None = None


def sockeye_arguments(config: TrainConfig, prepared: PreparedDir, run: RunDir, shared_vocab: bool,
                      parent: Parent | None = None) -> list[str]:
    """The full sockeye-train command line that this configuration, with its preset chosen, stands for;
    fine-tuning a `parent` puts its settings, architecture and weights over the preset's."""
    import torch

    args = [
        "--prepared-data", str(prepared.sockeye_data),
        "--validation-source", str(prepared.text("dev", "source", subwords=True)),
        "--validation-target", str(prepared.text("dev", "target", subwords=True)),
        "--output", str(run.model),
        "--decode-and-evaluate", str(config.dev_sentences),
        "--seed", str(config.seed),
        *get_preset(config.preset).sockeye_args,
        *(parent.sockeye_args() if parent else ()),
    ]
    if config.early_stopping:
        # Sockeye's BLEU here is on subword pieces; it only decides when to stop.
        args += ["--optimized-metric", "bleu", "--max-num-checkpoint-not-improved", str(config.early_stopping)]
    if shared_vocab:
        args.append("--shared-vocab")
    else:
        # Tying source and target embeddings needs one vocabulary for both.
        args += ["--weight-tying-type", "trg_softmax"]
    if not torch.cuda.is_available():
        args.append("--use-cpu")
    if resolve_precision(config.precision) == "bfloat16":
        # Sockeye's mixed precision, which train() switches to bfloat16; Sockeye's TF32 (on by
        # default) speeds up what stays in float32 on GPUs.
        args.append("--amp")
    return args + list(config.sockeye_args)


class CheckpointScorer:
    """Sockeye's metrics hook: adds sacreBLEU on detokenized text to each checkpoint.

    Sockeye's own BLEU is computed on SentencePiece pieces, which flatters a model; this
    one decodes the checkpoint decoder's output and scores it the way `s2s evaluate` does.
    """

    def __init__(self, run: RunDir, subwords: Subwords):
        self.run = run
        self.subwords = subwords
        # Kept on disk, so that a resumed run still knows how its earlier checkpoints scored.
        self.checkpoints: list[dict] = []
        if run.checkpoint_log.is_file():
            by_number = {}
            for line in run.checkpoint_log.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                by_number[entry["checkpoint"]] = entry
            self.checkpoints = [by_number[n] for n in sorted(by_number)]
        # Wall seconds since training started, counting on from where an interrupted run stopped.
        # (Sockeye's own `time-elapsed` is only updated when it saves, one checkpoint late.)
        self.started = time.monotonic() - (self.checkpoints[-1].get("elapsed_s", 0) if self.checkpoints else 0)

    def __call__(self, metrics: dict, checkpoint: int) -> None:
        from sockeye import constants as C

        output = self.run.model / C.DECODE_OUT_NAME.format(checkpoint=checkpoint).format(factor=0)
        references = self.run.model / C.DECODE_REF_NAME.format(factor=0)
        entry = {"checkpoint": checkpoint, "train_perplexity": round(metrics["perplexity-train"], 3),
                 "validation_perplexity": round(metrics["perplexity-val"], 3)}
        if output.is_file():
            hyps = [self.subwords.decode(line.rstrip("\n")) for line in open(output, encoding="utf-8")]
            refs = [self.subwords.decode(line.rstrip("\n")) for line in open(references, encoding="utf-8")]
            scores = score(hyps, refs)
            entry.update(validation_bleu=scores.bleu, validation_chrf=scores.chrf)
        entry["elapsed_s"] = round(time.monotonic() - self.started, 1)
        self.checkpoints = [c for c in self.checkpoints if c["checkpoint"] < checkpoint] + [entry]
        with open(self.run.checkpoint_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        logger.info("checkpoint %d: %s", checkpoint,
                    " ".join(f"{k}={v}" for k, v in entry.items() if k != "checkpoint"))
        log_metric("train:perplexity", entry["train_perplexity"])
        log_metric("validation:perplexity", entry["validation_perplexity"])
        if "validation_bleu" in entry:
            log_metric("validation:bleu", entry["validation_bleu"])
            log_metric("validation:chrf", entry["validation_chrf"])


def failure_reason(error: BaseException) -> str:
    """What a failed training run reads as (in SageMaker's failure file, on the command line):
    the cause in words, not a traceback."""
    import torch

    if isinstance(error, S2SError):
        return str(error)
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return ("out of GPU memory: lower batch_size, max_seq_len or the preset's size, or use an instance "
                f"with more GPU memory ({str(error).splitlines()[0]})")
    return f"internal error: {type(error).__name__}: {error}"


def train(config: TrainConfig) -> dict:
    """Trains, then writes run.json next to the model; returns its contents."""
    import torch
    from sockeye import arguments
    from sockeye import train as sockeye_train

    prepared = PreparedDir(config.prepared)
    manifest = prepared.read_manifest()
    run = RunDir(config.output)
    # Under torchrun every process runs this function; only the first one touches the files.
    primary = int(os.environ.get("RANK", "0")) == 0
    resuming = config.resume and run.has_training_state()
    if primary and run.root.exists() and not (config.force or resuming):
        raise S2SError(f"{run.root}: already exists; pass --resume to continue an interrupted run, or --force "
                       "to start again")
    parent = Parent.load(config.init_from) if config.init_from else None
    if parent:
        parent.check_prepared(prepared)
        parent.warn_if_other_test_set(prepared)
        preset = parent.preset(config.preset)
    else:
        preset = choose_preset(config.preset, manifest["splits"]["train"]["kept"], torch.cuda.is_available())
    logger.info("preset %s (%s)", preset.name, preset.reason)
    argv = sockeye_arguments(dataclasses.replace(config, preset=preset.name), prepared, run,
                             shared_vocab=manifest["subwords"]["joint"], parent=parent)
    parser = arguments.ConfigArgumentParser(prog="sockeye-train")
    arguments.add_train_cli_args(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        raise S2SError(f"Sockeye rejected the training options {config.sockeye_args}; "
                       "see `sockeye-train --help`") from None
    if parent:
        parent.check_architecture(args, prepared)
        logger.info("fine-tuning %s from its weights; architecture from its Sockeye config, not the preset's: %s; "
                    "fine-tuning settings over the preset's: %s", parent.id, " ".join(parent.architecture_args()),
                    " ".join(FINETUNE.sockeye_args))
    if resuming:
        logger.info("resuming the interrupted run in %s", run.root)
    elif primary:
        shutil.rmtree(run.root, ignore_errors=True)
        run.root.mkdir(parents=True)
        for model in prepared.subword_files:
            shutil.copyfile(model, run.root / model.name)
    scorer = CheckpointScorer(run, SubwordPair.load(run.root).target) if primary else None
    precision = resolve_precision(config.precision)
    logger.info("training preset %r in %s: sockeye-train %s", preset.name, precision, " ".join(argv))
    bfloat16 = (sockeye_amp_in_bfloat16("cpu" if args.use_cpu else "cuda") if precision == "bfloat16"
                else contextlib.nullcontext())
    with warnings.catch_warnings(), stop_on_sigterm(config.stop_file) as stop, bfloat16, restored_logging(), \
            restored_tf32():
        # Tracing the decoder on torch 2.x warns on every checkpoint; it is harmless.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        try:
            state = sockeye_train.train(args, custom_metrics_logger=scorer)
        except torch.cuda.OutOfMemoryError as error:
            raise S2SError(failure_reason(error)) from None
        except Exception as error:
            full = disk_full(error, run.root, "the last checkpoint saved is kept; --resume continues from it")
            if full:
                raise full from error
            raise
    stop.raise_if_stopped()

    summary = {
        "source_lang": manifest["source_lang"],
        "target_lang": manifest["target_lang"],
        "preset": preset.name,
        "preset_reason": preset.reason,
        "precision": precision,
        "sockeye_args": argv,
        "train_data_sha256": manifest["train_data_sha256"],
        # Whether (and how) the data taught the model to apply terms: s2s prepare's term annotation.
        "terms": manifest.get("terms", {"trained": False, "why": "prepared before s2s annotated terms"}),
        "prepared": str(prepared.root.resolve()),
        "updates": state.updates,
        "best_checkpoint": state.best_checkpoint,
        "checkpoints": scorer.checkpoints if scorer else [],
        **({"init_from": parent.record()} if parent else {}),
    }
    if primary and config.average > 1:
        from seq2seq.training.averaging import average_best_checkpoints  # imports the translator

        summary["averaging"] = average_best_checkpoints(run, prepared, config.average)
    if primary:
        run.summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if summary["checkpoints"]:
            plot_training_curve(summary["checkpoints"], run.curve)
    return summary
