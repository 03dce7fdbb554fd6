"""`s2s`: the command line. Each module adds one group of subcommands, with each command's options
beside the thin function that handles it by calling the library."""
import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from data_prep.errors import S2SError, disk_full
from s2s_cli import aws, data, demo, models, review, serve, terms, train

# In the order `s2s --help` lists them.
GROUPS = (data, train, models, terms, review, serve, aws, demo)
# The group that adds each command: `s2s COMMAND ...` builds only that group's parsers, and so imports
# only what they need (`s2s serve` started 0.2 s sooner). tests/test_cli.py checks it against GROUPS.
GROUP_OF = {"demo-corpus": data, "prepare": data, "train": train, "models": models, "evaluate": models,
            "publish": models, "translate": models, "terms": terms, "review": review, "serve": serve,
            "keys": serve, "aws": aws, "demo": demo}


def unwind_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that partial outputs are removed on the way out.

    A process forked from this one (the pool of Sockeye's data preparation) dies of SIGTERM at
    once instead: a Python handler runs only between bytecodes, so a pool worker that took the
    signal just before blocking on the pool's queue lock never ran it, and the pool's terminate
    waited for that worker for good (`s2s prepare` hung for 10 minutes in the test suite)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only `command`'s group of it."""
    parser = argparse.ArgumentParser(
        prog="s2s", description="Train neural machine translation models with Sockeye, publish "
        "BLEU-scored model versions, and serve them over REST.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (GROUP_OF[command],) if command in GROUP_OF else GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = [word for word in (sys.argv[1:] if argv is None else argv) if not word.startswith("-")]
    parser = build_parser(words[0] if words else None)
    args, extra = parser.parse_known_args(argv)
    # Only a command that passes options through (`s2s train`, to sockeye-train) takes unknown ones.
    if extra and not hasattr(args, "passed_through"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "passed_through"):
        args.passed_through = extra
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    unwind_on_sigterm()
    try:
        args.func(args)
    except S2SError as e:
        print(f"s2s {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        full = disk_full(e, Path(e.filename or Path.cwd()), "the file it was writing may be incomplete")
        if full is None:
            raise
        print(f"s2s {args.command}: error: {full}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"s2s {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
