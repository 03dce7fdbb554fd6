"""A version's lineage: finding a version by id, the subwords and test set a fine-tuned run inherits
from it, and the version a run (or a SageMaker job's model channel) continues from."""
import logging
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from data_prep.corpus import file_sha256
from data_prep.errors import S2SError
from data_prep.subwords import GivenSubwords, SubwordPair
from seq2seq.versions.store import ModelStore
from seq2seq.versions.version import Version, VersionNotFound

logger = logging.getLogger(__name__)

# Sockeye's file names for the weights and the vocabularies of a model directory.
PARAMS, SOURCE_VOCAB, TARGET_VOCAB = "params.best", "vocab.src.0.json", "vocab.trg.0.json"


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
