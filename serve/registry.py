"""Which versions the server offers, and their translators, loaded once each."""
import logging
import threading

from data_prep.errors import S2SError
from seq2seq.store import ModelStore, Version, VersionNotFound
from seq2seq.translator import Translator

logger = logging.getLogger(__name__)


class Registry:
    """Resolves requests to versions and keeps a loaded Translator per version."""

    def __init__(self, store: ModelStore, invocations_version: str | None = None):
        self.store = store
        self.invocations_version = invocations_version
        self._translators: dict[str, Translator] = {}
        self._lock = threading.Lock()

    def resolve(self, source_lang: str, target_lang: str, version_id: str | None = None) -> Version:
        if version_id is None:
            return self.store.default_for(source_lang, target_lang)
        version = self.store.get(version_id)
        if version.pair != (source_lang, target_lang):
            raise VersionNotFound(f"version {version_id} translates {'->'.join(version.pair)}, "
                                  f"not {source_lang}->{target_lang}")
        return version

    def invocations(self) -> Version:
        """The version behind SageMaker's /invocations, which carries no language pair."""
        return self.store.select(self.invocations_version)

    def translator(self, version: Version) -> Translator:
        with self._lock:
            if version.id not in self._translators:
                version.verify()
                logger.info("loading version %s", version.id)
                self._translators[version.id] = Translator(version.model_dir, version.path)
            return self._translators[version.id]

    def preload(self) -> None:
        """Loads each pair's default version; a version that fails is logged and skipped."""
        for pair in self.store.pairs():
            try:
                self.translator(self.store.default_for(*pair))
            except S2SError as e:
                logger.error("not serving %s: %s", "->".join(pair), e)

    @property
    def loaded(self) -> list[str]:
        return list(self._translators)
