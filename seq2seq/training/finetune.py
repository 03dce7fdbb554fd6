"""Fine-tuning a published version: `s2s prepare --subwords-from` encodes new data with its subwords,
and `s2s train --init-from` continues from its weights (Sockeye's --params).

Sockeye can only load weights into a model of the same shape, indexed by the same vocabulary, so
the architecture is read from the version's own Sockeye config (not the preset), and the prepared
data must carry the version's vocabularies; anything else is refused before training starts.
"""
import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from data_prep.prepared_dir import PreparedDir
from data_prep.subwords import SubwordPair
from seq2seq.training.presets import AUTO, FINETUNE, PresetChoice, get_preset
from seq2seq.versions.lineage import PARAMS, SOURCE_VOCAB, TARGET_VOCAB, check_test_set, scored_test_set
from seq2seq.versions.store import ModelStore
from seq2seq.versions.version import VERSION_JSON, Version

logger = logging.getLogger(__name__)


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
