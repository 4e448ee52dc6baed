#!/usr/bin/env python3
"""Builds the installable wheel of the Python binding with libleader.so and leader.h inside the package:
`leader-<version>-py3-none-<platform>.whl` (ctypes only, so one wheel serves every Python 3 of the platform).

    python3 bindings/python/tools/build_wheel.py --library .build-dist/release/libleader.so \\
        --header include/leader.h --out dist/python

`make dist-python` runs this. Written by hand (a wheel is a zip with three metadata files) so that it needs
no build backend and no network; the result installs with plain `pip install`. The name, version and
dependencies come from bindings/python/pyproject.toml.
"""
import argparse
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PACKAGE_ROOT = Path(__file__).resolve().parents[1]          # bindings/python
FIXED_TIME = (2020, 1, 1, 0, 0, 0)                          # reproducible zip entries


def platform_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", sysconfig.get_platform())


def stripped(library: Path) -> bytes:
    """The library without its static symbol table and debug info (half the size; .dynsym, the leader_*
    exports, stays), as tools/make_dist.sh ships it; as it is when `strip` is missing."""
    if shutil.which("strip"):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "libleader.so"
            if subprocess.run(["strip", "--strip-unneeded", "-o", str(out), str(library)]).returncode == 0:
                return out.read_bytes()
    return library.read_bytes()


def metadata(project: dict) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project.get('description', '')}"]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    return "\n".join(lines) + "\n"


def build(library: Path, header: Path, out: Path) -> Path:
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = {}                                                 # archive name -> bytes
    for src in sorted((PACKAGE_ROOT / "leader").glob("*.py")):
        files[f"leader/{src.name}"] = src.read_bytes()
    files["leader/libleader.so"] = stripped(library)
    files["leader/leader.h"] = header.read_bytes()
    # the medication maps and DDI pairs the project ships, with their licences (found beside libleader.so)
    for f in sorted((PACKAGE_ROOT.parents[1] / "data").iterdir()):
        if f.is_file():
            files[f"leader/data/{f.name}"] = f.read_bytes()
    files[f"{dist_info}/METADATA"] = metadata(project).encode()
    files[f"{dist_info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: leader build_wheel.py\nRoot-Is-Purelib: false\n"
                                   f"Tag: py3-none-{platform_tag()}\n").encode()
    files[f"{dist_info}/top_level.txt"] = b"leader\n"
    record = []
    for arcname, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()

    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{name}-{version}-py3-none-{platform_tag()}.whl"
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in files.items():
            info = zipfile.ZipInfo(arcname, FIXED_TIME)
            info.external_attr = (0o755 if arcname.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    tmp.replace(wheel)
    return wheel


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", required=True, type=Path, help="the built libleader.so")
    ap.add_argument("--header", required=True, type=Path, help="include/leader.h")
    ap.add_argument("--out", required=True, type=Path, help="folder for the wheel (created)")
    args = ap.parse_args(argv)
    for path in (args.library, args.header):
        if not path.is_file():
            print(f"build_wheel: {path} not found (run `make build` first)", file=sys.stderr)
            return 1
    print(build(args.library, args.header, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
