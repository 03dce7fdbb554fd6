"""`s2s demo`: the whole path on the generated corpus."""
import argparse
import json
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> None:
    from pipeline.demo import DemoConfig, run_demo

    result = run_demo(DemoConfig(workdir=args.workdir, seed=args.seed))
    answer = result["answer"]
    print("\nPOST /v1/translate " + json.dumps({"q": result["request"], "source": "en", "target": "de"},
                                                ensure_ascii=False))
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    for source, translation in zip(result["request"], answer["translations"]):
        print(f"  {source}  ->  {translation}")
    print(f"version {answer['version']}: test BLEU {result['test_bleu']:.2f} ({result['bleu_signature']})")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole path on the generated demo corpus",
                       description="Generate the demo corpus, prepare it, train `tiny`, evaluate, publish, "
                       "serve on 127.0.0.1, send one /v1/translate request and print the answer.")
    p.add_argument("--workdir", type=Path, default=Path("demo"), help="working directory (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="corpus and training seed (default: %(default)s)")
    p.set_defaults(func=cmd_demo)
