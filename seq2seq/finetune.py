"""Fine-tuning a published version: `s2s prepare --subwords-from` encodes new data with its subwords,
and `s2s train --init-from` continues from its weights (Sockeye's --params).

Sockeye can only load weights into a model of the same shape, indexed by the same vocabulary, so
the architecture is read from the version's own Sockeye config (not the preset), and the prepared
data must carry the version's vocabularies; anything else is refused before training starts.
"""
import dataclasses
import json
import logging
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from data_prep.prepare import PreparedDir
from data_prep.subwords import GivenSubwords, SubwordPair
from seq2seq.presets import AUTO, FINETUNE, PresetChoice, get_preset
from seq2seq.store import VERSION_JSON, ModelStore, Version, VersionNotFound

logger = logging.getLogger(__name__)

# Sockeye's file names for the weights and the vocabularies of a model directory.
PARAMS, SOURCE_VOCAB, TARGET_VOCAB = "params.best", "vocab.src.0.json", "vocab.trg.0.json"


def _per_side(field: str):
    return lambda config: f"{getattr(config.config_encoder, field)}:{getattr(config.config_decoder, field)}"


# The sockeye-train options that shape a model's parameters, each read back from a model's config.
ARCHITECTURE = (
    ("--num-layers", _per_side("num_layers")),
    ("--transformer-model-size", _per_side("model_size")),
    ("--transformer-attention-heads", _per_side("attention_heads")),
    ("--transformer-feed-forward-num-hidden", _per_side("feed_forward_num_hidden")),
    ("--transformer-activation-type", _per_side("act_type")),
    ("--transformer-preprocess", _per_side("preprocess_sequence")),
    ("--transformer-postprocess", _per_side("postprocess_sequence")),
    ("--transformer-positional-embedding-type", lambda c: c.config_encoder.positional_embedding_type),
    ("--decoder", lambda c: c.config_decoder.decoder_type),
    ("--num-embed", lambda c: f"{c.config_embed_source.num_embed}:{c.config_embed_target.num_embed}"),
    ("--weight-tying-type", lambda c: c.weight_tying_type),
)
# Switches, given only when the model has them on.
ARCHITECTURE_SWITCHES = (
    ("--transformer-feed-forward-use-glu", lambda c: c.config_encoder.use_glu),
    ("--transformer-block-prepended-cross-attention", lambda c: c.config_decoder.block_prepended_cross_attention),
)
# Model features s2s never trains; a version with one is not fine-tuned rather than half-understood.
UNSUPPORTED = (
    ("LHUC", lambda c: c.lhuc),
    ("neural vocabulary selection", lambda c: c.neural_vocab_selection is not None),
    ("a length task", lambda c: c.config_length_task is not None),
    ("source or target factors", lambda c: bool(c.config_embed_source.factor_configs
                                                or c.config_embed_target.factor_configs)),
)
# Settings that may differ from the parent's without changing the parameters' shapes.
_FREE_FIELDS = ("dropout", "dropout_act", "dropout_attention", "dropout_prepost", "max_seq_len_source",
                "max_seq_len_target")


def find_version(store: Path, version_id: str) -> Version:
    """A version by id, checked against its sha256s; the error names the store."""
    if not ModelStore(store).version_files():
        raise VersionNotFound(f"no version {version_id!r}: {store} holds no published versions; give the store "
                              "that holds it (--store)")
    version = ModelStore(store).get(version_id)
    version.verify()
    return version


def version_subwords(version: Version) -> GivenSubwords:
    """What `s2s prepare --subwords-from` reuses: the version's SentencePiece and Sockeye vocabularies."""
    return GivenSubwords(origin=version.id, models=tuple(SubwordPair.load(version.path).files),
                         source_vocab=version.model_dir / SOURCE_VOCAB, target_vocab=version.model_dir / TARGET_VOCAB)


def scored_test_set(version: Version) -> dict:
    """The test set a version was scored on, as run.json records it for the fine-tuned run's publication."""
    test = version.info["test"]
    return {key: test.get(key) for key in ("name", "source_sha256", "reference_sha256")}


def check_test_set(parent_test: dict, parent_id: str, source: Path, reference: Path) -> None:
    """Refuses a test set other than the one the parent was scored on: the promotion gate compares
    the two versions' BLEU, which only means something on the same sentences."""
    given = (file_sha256(source), file_sha256(reference))
    if given != (parent_test["source_sha256"], parent_test["reference_sha256"]):
        raise S2SError(
            f"{source} and {reference} are not the test set that {parent_id}, the version this run was fine-tuned "
            f"from, was scored on ({parent_test['name']!r}, source sha256 {parent_test['source_sha256'][:12]}..., "
            f"reference {parent_test['reference_sha256'][:12]}...); score it on the same files (--test-source, "
            "--test-target, or `s2s prepare --test-source/--test-target` with them), so that its BLEU compares "
            "with the parent's")


def _first_difference(ours: dict, theirs: dict) -> str:
    for token, index in theirs.items():
        if ours.get(token) != index:
            return f"{token!r} is {ours.get(token)} here, {index} in the version"
    extra = next(token for token in ours if token not in theirs)
    return f"{extra!r} is {ours[extra]} here, absent from the version"


@dataclass(frozen=True)
class Parent:
    """The published version a run continues from."""
    version: Version

    @classmethod
    def load(cls, path: Path) -> "Parent":
        """The version in directory `path`, checked against its sha256s."""
        meta = Path(path) / VERSION_JSON
        if not meta.is_file():
            raise S2SError(f"{path}: not a published version (no {VERSION_JSON}); --init-from takes a version id "
                           "in --store")
        version = ModelStore(meta.parent.parent).read_version(meta)
        version.verify()
        return cls(version)

    @property
    def id(self) -> str:
        return self.version.id

    def model_config(self):
        from sockeye.model import ModelConfig

        config = ModelConfig.load(str(self.version.model_dir / "config"))
        unsupported = [name for name, present in UNSUPPORTED if present(config)]
        if unsupported:
            raise S2SError(f"{self.id}: cannot fine-tune a model with {', '.join(unsupported)}; s2s trains none")
        return config

    def preset(self, requested: str) -> PresetChoice:
        """The preset asked for; for `auto`, the one the parent was trained with (its batch size,
        checkpoint interval and dropout), not one chosen afresh from the new corpus."""
        if requested != AUTO:
            return PresetChoice(get_preset(requested).name, "asked for")
        name = self.version.info["training"]["preset"]
        return PresetChoice(get_preset(name).name, f"auto: the preset {self.id} was trained with")

    def architecture_args(self) -> tuple[str, ...]:
        config = self.model_config()
        args = [item for flag, value in ARCHITECTURE for item in (flag, str(value(config)))]
        return (*args, *(flag for flag, on in ARCHITECTURE_SWITCHES if on(config)))

    def sockeye_args(self) -> tuple[str, ...]:
        """What goes over the preset: fine-tuning's learning rate and warm-up, the parent's
        architecture, and its weights to start from."""
        return (*FINETUNE.sockeye_args, *self.architecture_args(),
                "--params", str(self.version.model_dir / PARAMS))

    def check_prepared(self, prepared: PreparedDir) -> None:
        """Refuses data not encoded with the parent's SentencePiece model(s) and Sockeye vocabularies."""
        fix = (f"prepare it with `s2s prepare --subwords-from {self.id} --store {self.version.path.parent}` "
               "(it reuses them)")
        for side, name in (("source", SOURCE_VOCAB), ("target", TARGET_VOCAB)):
            ours = json.loads((prepared.sockeye_data / name).read_text(encoding="utf-8"))
            theirs = json.loads((self.version.model_dir / name).read_text(encoding="utf-8"))
            if ours != theirs:
                raise S2SError(
                    f"{prepared.root} was not prepared with the vocabulary of {self.id}: its {side} vocabulary has "
                    f"{len(ours)} entries, the version's {len(theirs)} (first difference: "
                    f"{_first_difference(ours, theirs)}); {fix}")
        ours = {p.name: file_sha256(p) for p in prepared.subword_files}
        theirs = {p.name: file_sha256(p) for p in SubwordPair.load(self.version.path).files}
        if ours != theirs:
            raise S2SError(f"{prepared.root} was not encoded with the SentencePiece model(s) of {self.id} "
                           f"({', '.join(sorted(ours)) or 'none'} here, {', '.join(sorted(theirs))} in the version, "
                           f"with different contents); {fix}")

    def check_architecture(self, args, prepared: PreparedDir) -> None:
        """Refuses sockeye-train options that would build a model of another shape than the parent's,
        naming each difference; Sockeye itself would fail on the first mismatched tensor."""
        from sockeye import train as sockeye_train
        from sockeye.utils import SockeyeError

        theirs = self.model_config()
        sizes = [len(json.loads((prepared.sockeye_data / name).read_text(encoding="utf-8")))
                 for name in (SOURCE_VOCAB, TARGET_VOCAB)]
        try:
            ours = sockeye_train.create_model_config(
                args, [sizes[0]], [sizes[1]], theirs.config_data.max_seq_len_source,
                theirs.config_data.max_seq_len_target, theirs.config_data)
        except SockeyeError as e:
            raise S2SError(f"the training options do not describe {self.id}'s model: {e}") from None
        differences = [f"{name}: {getattr(ours, name)!r} here, {getattr(theirs, name)!r} in the version"
                       for name in ("vocab_source_size", "vocab_target_size", "weight_tying_type")
                       if getattr(ours, name) != getattr(theirs, name)]
        for part in ("config_embed_source", "config_embed_target", "config_encoder", "config_decoder"):
            mine, parent = getattr(ours, part), getattr(theirs, part)
            differences += [f"{part.removeprefix('config_')} {f.name}: {getattr(mine, f.name)!r} here, "
                            f"{getattr(parent, f.name)!r} in the version" for f in dataclasses.fields(parent)
                            if f.name not in _FREE_FIELDS and getattr(mine, f.name) != getattr(parent, f.name)]
        if differences:
            raise S2SError(f"cannot continue from {self.id}: the training options give a model of another shape "
                           f"({'; '.join(differences)}); leave the architecture options out, fine-tuning takes them "
                           "from the version")

    def record(self) -> dict:
        """What run.json keeps of the parent: its id, where it was, and the test set it was scored on."""
        return {"version": self.id, "path": str(self.version.path.resolve()), "test": scored_test_set(self.version),
                "finetune_args": list(FINETUNE.sockeye_args), "architecture_args": list(self.architecture_args())}

    def warn_if_other_test_set(self, prepared: PreparedDir) -> None:
        source, reference, _ = prepared.test_split()
        try:
            check_test_set(scored_test_set(self.version), self.id, source, reference)
        except S2SError as e:
            logger.warning("the prepared test split is not the parent's test set; `s2s publish` needs the "
                           "parent's: %s", e)


def find_parent(summary: dict, store: Path) -> Version | None:
    """The version a fine-tuned run continues from, where it was at training or else in `store`;
    None (with a warning) when neither holds it any more."""
    init_from = summary.get("init_from")
    if not init_from:
        return None
    for candidate in (Path(init_from["path"]).parent, Path(store)):
        try:
            return ModelStore(candidate).get(init_from["version"])
        except VersionNotFound:
            continue
    logger.warning("the parent version %s is neither in %s nor in %s: its review-set score is not recorded",
                   init_from["version"], Path(init_from["path"]).parent, store)
    return None


@contextmanager
def model_channel_version(channel: Path, version_id: str | None) -> Iterator[Version | None]:
    """The version a SageMaker job fine-tunes, from its `model` channel: the one `version_id` names, or
    the channel's only one; None without a channel. The channel holds a training job's model.tar.gz
    (SageMaker's incremental training; it holds the store layout the job published), unpacked here
    for the job's duration, or version directories."""
    if not (channel.is_dir() and any(channel.iterdir())):
        if version_id:
            raise S2SError(f"hyperparameter init_from={version_id!r} needs the model channel ({channel}) holding that "
                           "version: a training job's model.tar.gz, or the version's directory")
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="s2s-parent-") as tmp:
        archives = sorted(channel.glob("*.tar.gz"))
        for archive in archives:
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(tmp, filter="data")
            except (tarfile.TarError, OSError) as e:
                raise S2SError(f"model channel: {archive.name} is not a readable model artefact ({e})") from None
        store = ModelStore(Path(tmp) if archives else channel)
        ids = [v.id for v in store.versions()]
        if not ids:
            raise S2SError(f"the model channel ({channel}) holds no published version: give a training job's "
                           "model.tar.gz, or version directories")
        if version_id and version_id not in ids:
            raise S2SError(f"the model channel holds no version {version_id!r} (hyperparameter init_from); it holds: "
                           f"{', '.join(ids)}")
        if not version_id and len(ids) > 1:
            raise S2SError(f"the model channel holds {len(ids)} versions ({', '.join(ids)}); name the one to "
                           "fine-tune with the hyperparameter init_from")
        version = store.get(version_id or ids[0])
        version.verify()
        logger.info("fine-tuning %s from the model channel", version.id)
        yield version
