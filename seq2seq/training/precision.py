"""Training precision: bfloat16 mixed precision on GPUs that support it, float32 elsewhere.

Sockeye 3.1.34 ignores `--dtype` when training (its log says the option "has no effect")
and offers float16 mixed precision (`--amp`: autocast with a loss scaler) or DeepSpeed's
bfloat16. So bfloat16 here is Sockeye's `--amp` path with autocast switched to bfloat16 and
the loss scaler off: bfloat16 has float32's exponent range, so losses need no scaling.
Weights, optimizer state and checkpoints stay float32.
"""
import contextlib
from typing import Iterator

from data_prep.errors import S2SError

PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(precision: str) -> str:
    """'auto' is bfloat16 on GPUs that support it (Ampere and later), else float32."""
    import torch

    if precision not in PRECISIONS:
        raise S2SError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
    return precision


@contextlib.contextmanager
def sockeye_amp_in_bfloat16(device_type: str) -> Iterator[None]:
    """While inside, Sockeye's `--amp` autocasts to bfloat16 on `device_type` ("cuda" or "cpu"),
    with loss scaling off."""
    import torch

    amp = torch.cuda.amp  # what Sockeye calls, at each use
    autocast, grad_scaler = amp.autocast, amp.GradScaler
    amp.autocast = lambda **kwargs: torch.autocast(device_type, dtype=torch.bfloat16, **kwargs)
    amp.GradScaler = lambda *args, **kwargs: torch.amp.GradScaler(device_type, enabled=False)
    try:
        yield
    finally:
        amp.autocast, amp.GradScaler = autocast, grad_scaler


@contextlib.contextmanager
def restored_tf32() -> Iterator[None]:
    """Sockeye's training turns on TF32 matrix products on GPUs for the whole process (its --tf32,
    on by default) and leaves it on, so a model scored afterwards in the same process (as the
    SageMaker job does) was translated with TF32, and in full float32 by `s2s evaluate` in a
    fresh process: the likely reason why one version measured on an H100 recorded test BLEU
    40.0 where `s2s evaluate` printed 39.93. This puts the process's setting back."""
    import torch

    allow_tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = allow_tf32
