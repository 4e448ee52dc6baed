"""The numbers of include/leader.h, read from the header itself so that they are written once.

The header is found beside this file (a built wheel ships a copy: `make dist-python`) or, in the source tree,
at the repository's include/leader.h. Only `enum { NAME = number, ... }` members and `#define NAME number`
lines are read; nothing else of the header is interpreted here (tests/test_abi.py checks the function
declarations against _capi.py).
"""
import re
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def header_path() -> Path:
    for path in (_HERE / "leader.h", _HERE.parent.parent.parent / "include" / "leader.h"):
        if path.is_file():
            return path
    raise ImportError(f"leader.h not found beside {_HERE} nor in the repository's include/ "
                      "(a wheel built by `make dist-python` ships it)")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _number(token: str):
    token = token.strip().strip("()").strip()
    if not token.lower().lstrip("-").startswith("0x"):
        token = re.sub(r"(?<=[0-9.])[fFuUlL]+$", "", token)
    try:
        return int(token, 0)
    except ValueError:
        return float(token)


def parse_constants(text: str) -> dict:
    """NAME -> number for every enum member and numeric #define of the header text."""
    constants = {}
    text = _strip_comments(text)
    for m in re.finditer(r"#define\s+(LEADER_\w+)\s+(\(?\s*-?[0-9][0-9.xXa-fA-F]*[fFuUlL]*\s*\)?)\s*$",
                         text, flags=re.M):
        constants[m.group(1)] = _number(m.group(2))
    for body in re.findall(r"\benum\s*\{(.*?)\}", text, flags=re.S):
        for member in body.split(","):
            m = re.fullmatch(r"\s*(LEADER_\w+)\s*=\s*(-?\w+)\s*", member)
            if m:
                constants[m.group(1)] = _number(m.group(2))
    return constants


CONSTANTS = parse_constants(header_path().read_text())
