"""``python -m sot.train --config configs/train/<name>.yaml [--set key=value ...] [--out DIR] [--resume]``.

The YAML's ``recipe`` key names the training recipe; its ``params`` (each with a
source, as everywhere in ``configs/``) fill the recipe's config dataclass.
"""
from __future__ import annotations

import argparse
import sys

from bench.core.errors import BenchError

from .recipes import run_recipe


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sot.train", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="training YAML under configs/train/")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value (repeatable)")
    ap.add_argument("--out", default=None, help="output folder for checkpoints and logs")
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    try:
        run_recipe(args.config, overrides=args.overrides, out=args.out, resume=args.resume, quiet=args.quiet)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
