"""What happened to the pairs of one corpus or split: how many were read and kept, and why the rest were dropped."""
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Counts:
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        self.kept -= 1
        self.dropped[reason] += 1

    def add_skipped(self, skipped_on_read: Counter) -> None:
        """Pairs skipped while reading (bad UTF-8, a TMX unit missing a language) were read, then dropped."""
        self.read += sum(skipped_on_read.values())
        self.dropped.update(skipped_on_read)

    def as_dict(self) -> dict:
        return {"read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items()))}
