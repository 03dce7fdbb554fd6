"""Metric log lines, in one stable format, and the regexes that SageMaker matches them with.

A training job prints `metric <split>:<name>=<value>` lines, for example
`metric validation:bleu=84.6`. The launcher passes METRIC_DEFINITIONS to SageMaker, which
turns matching log lines into CloudWatch metrics.
"""
import logging

logger = logging.getLogger("s2s.metrics")

METRICS = (
    "train:perplexity",
    "validation:perplexity",
    "validation:bleu",
    "validation:chrf",
    "test:bleu",
    "test:chrf",
    "test:int8_bleu",
)

METRIC_DEFINITIONS = [
    {"Name": name, "Regex": rf"metric {name}=([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"} for name in METRICS
]


def log_metric(name: str, value: float) -> None:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; add it to METRICS so that a regex matches it")
    logger.info("metric %s=%s", name, round(float(value), 4))
