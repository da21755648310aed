#!/usr/bin/env python3
"""Copies the deployed stackdock.toml, and every `user_data_file` it references, into a function's
build directory: `bundle-config.py CONFIG DEST`, where DEST is the config's path beside the
bootstrap (e.g. .aws-sam/build/SyncFunction/stackdock.toml).

A `user_data_file` is relative to the config's directory, and the functions read it relative to
theirs (the directory of STACKDOCK_CONFIG), so each is copied to the same relative path beside
DEST. A path that is absolute, leaves the config's directory (through `..` or a symbolic link),
or names no file is refused, and nothing of that config is copied. Prints what it copied.
"""

import os
import shutil
import sys
import tomllib
from pathlib import Path


def user_data_files(value, where=""):
    """(where, path) of every `user_data_file` anywhere in the parsed config."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else key
            if key == "user_data_file":
                yield where, item
            else:
                yield from user_data_files(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from user_data_files(item, f"{where}[{i}]")


def resolve(config_dir: Path, where: str, path) -> Path:
    if not isinstance(path, str) or not path:
        raise ValueError(f"`user_data_file` of `{where}` must be a non-empty path")
    if path.startswith(("/", "\\", "~")) or (len(path) >= 2 and path[1] == ":"):
        raise ValueError(f"`user_data_file` of `{where}` is absolute: {path}")
    relative = Path(os.path.normpath(path.replace("\\", "/")))
    if relative.parts and relative.parts[0] == "..":
        raise ValueError(f"`user_data_file` of `{where}` leaves the config's directory: {path}")
    source = config_dir / relative
    real_dir = config_dir.resolve()
    real = source.resolve()
    if real_dir != real and real_dir not in real.parents:
        raise ValueError(
            f"`user_data_file` of `{where}` leaves the config's directory through a link: {path} -> {real}"
        )
    if not real.is_file():
        raise ValueError(f"`user_data_file` of `{where}` is not a file: {source}")
    return relative


def main(argv):
    if len(argv) != 3:
        print("usage: bundle-config.py CONFIG DEST", file=sys.stderr)
        return 2
    config, dest = Path(argv[1]), Path(argv[2])
    try:
        parsed = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"bundle-config: cannot read {config}: {e}", file=sys.stderr)
        return 1
    config_dir = config.parent
    try:
        files = sorted({resolve(config_dir, where, path) for where, path in user_data_files(parsed)})
    except ValueError as e:
        print(f"bundle-config: {config}: {e}", file=sys.stderr)
        return 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config, dest)
    os.chmod(dest, 0o644)
    print(f"bundle-config: {config} -> {dest}")
    for relative in files:
        target = dest.parent / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(config_dir / relative, target)
        os.chmod(target, 0o644)
        print(f"bundle-config: {config_dir / relative} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
