"""What `s2s prepare` did, for people: a summary table and a histogram of sentence lengths."""
from collections import Counter
from pathlib import Path


def length_stats(histogram: Counter) -> dict:
    """Mean, median, 95th percentile and maximum of a {length: count} histogram."""
    total = sum(histogram.values())
    if not total:
        return {"mean": 0, "p50": 0, "p95": 0, "max": 0}
    stats, seen = {}, 0
    for length in sorted(histogram):
        seen += histogram[length]
        for name, fraction in (("p50", 0.5), ("p95", 0.95)):
            if name not in stats and seen >= fraction * total:
                stats[name] = length
    mean = sum(length * n for length, n in histogram.items()) / total
    return {"mean": round(mean, 2), **stats, "max": max(histogram)}


def plot_lengths(lengths: dict[str, Counter], path: Path, source_lang: str, target_lang: str) -> None:
    """A PNG histogram of training sentence lengths in subwords, source and target overlaid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for side, lang in (("source", source_lang), ("target", target_lang)):
        histogram = lengths[side]
        xs = sorted(histogram)
        ax.bar(xs, [histogram[x] for x in xs], width=1.0, alpha=0.5, label=f"{side} ({lang})")
    ax.set_xlabel("sentence length (subwords)")
    ax.set_ylabel("training pairs")
    ax.set_title("Training sentence lengths")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summary_table(manifest: dict) -> str:
    """Pairs read, kept and dropped (by reason) per corpus and per split, as aligned text."""
    rows = [(name, c) for name, c in manifest["corpora"].items()]
    rows += [(f"[{split}]", manifest["splits"][split]) for split in ("train", "dev", "test")]
    reasons = sorted({reason for _, c in rows for reason in c["dropped"]})
    header = ["", "read", "kept", *reasons]
    table = [header] + [[name, str(c["read"]), str(c["kept"]), *(str(c["dropped"].get(r, 0)) for r in reasons)]
                        for name, c in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
