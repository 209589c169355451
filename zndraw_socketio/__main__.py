"""Command line: ``python -m zndraw_socketio asyncapi module:attribute [--yaml] [-o FILE]`` and
``python -m zndraw_socketio typescript module:attribute [-o FILE]``.

Imports ``module`` (the current directory is importable, as with uvicorn), takes ``attribute``
(dotted for nested attributes: a wrapper from ``wrap()``) and writes its AsyncAPI 3.0 document as
JSON, or as YAML with ``--yaml``, or its TypeScript contracts, to FILE or standard output.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any


def _load(target: str) -> Any:
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise SystemExit(f"error: expected module:attribute, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"error: cannot import {module_name!r}: {exc}") from exc
    for name in attribute.split("."):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise SystemExit(f"error: {module_name!r} has no attribute {attribute!r}") from None
    if not callable(getattr(obj, "asyncapi_schema", None)):
        raise SystemExit(
            f"error: {target} is a {type(obj).__name__}, not a zndraw_socketio wrapper "
            "(the object wrap() returns)"
        )
    return obj


def _asyncapi(args: argparse.Namespace) -> int:
    from .asyncapi.dump import to_json, to_yaml

    tsio = _load(args.target)
    app = getattr(tsio, "app", None)
    document = tsio.asyncapi_schema(
        title=args.title or getattr(app, "title", None) or args.target,
        version=args.version or getattr(app, "version", None) or "0.1.0",
        description=args.description,
    )
    text = to_yaml(document) if args.yaml else to_json(document)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


def _typescript(args: argparse.Namespace) -> int:
    text = _load(args.target).typescript()
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise SystemExit(f"error: cannot write {args.output!r}: {exc.strerror or exc}") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m zndraw_socketio")
    commands = parser.add_subparsers(dest="command", required=True)
    asyncapi = commands.add_parser("asyncapi", help="write the AsyncAPI 3.0 document of a wrapper")
    asyncapi.add_argument("target", help="module:attribute of the wrapper, e.g. myapp.main:tsio")
    asyncapi.add_argument("--yaml", action="store_true", help="write YAML instead of JSON")
    asyncapi.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    asyncapi.add_argument("--title", help="info.title (default: the app's title, else the target)")
    asyncapi.add_argument("--version", help="info.version (default: the app's version, else 0.1.0)")
    asyncapi.add_argument("--description", help="info.description")
    typescript = commands.add_parser("typescript", help="write the TypeScript contracts of a wrapper")
    typescript.add_argument("target", help="module:attribute of the wrapper, e.g. myapp.main:tsio")
    typescript.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    args = parser.parse_args(argv)
    if args.command == "asyncapi":
        return _asyncapi(args)
    if args.command == "typescript":
        return _typescript(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
