"""Every error a user can meet is raised with its English and its Chinese sentence together.

The text of an error lives once, at the raise (errors.py): this reads the source and fails on
a construction of a domain error without its Chinese sentence, or with a "Chinese" one that
holds no Chinese. It runs on the source, not on a list, so a new raise is checked too.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from rtcompute import errors

SOURCE = Path(errors.__file__).parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _base_names() -> set[str]:
    return {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.RtcError)
    }


def _subclasses(trees: dict[Path, ast.Module]) -> set[str]:
    """Classes of the package that derive from a domain error (to a fixpoint)."""
    known = _base_names()
    local: set[str] = set()
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in local:
                    continue
                for base in node.bases:
                    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                    if name in known or name in local:
                        local.add(node.name)
                        grew = True
    return local


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text()) for path in sorted(SOURCE.rglob("*.py"))}


def _constructions() -> list[tuple[str, ast.Call]]:
    trees = _trees()
    bases = _base_names() - {"RtcError"}
    local = _subclasses(trees)
    found = []
    for path, tree in trees.items():
        if path.name == "errors.py" and path.parent == SOURCE:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                named = func.value.id == "errors" and func.attr in bases
            else:
                named = isinstance(func, ast.Name) and func.id in local
            if named:
                where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
                found.append((where, node))
    return found


def _chinese_of(call: ast.Call) -> ast.expr | None:
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "zh"), None)


def _literal_text(node: ast.expr) -> str | None:
    """The constant parts of a string literal or f-string; None for any other expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
    return None


def test_the_source_constructs_domain_errors() -> None:
    assert len(_constructions()) > 100  # the scan sees the raises (it would pass on none)


def test_every_domain_error_carries_its_chinese_sentence() -> None:
    missing = [where for where, call in _constructions() if _chinese_of(call) is None]
    assert not missing, f"{len(missing)} errors without a Chinese sentence:\n" + "\n".join(missing)


def test_a_chinese_sentence_holds_chinese() -> None:
    wrong = []
    for where, call in _constructions():
        chinese = _chinese_of(call)
        text = _literal_text(chinese) if chinese is not None else None
        if text is not None and not CJK.search(text):
            wrong.append(f"{where}: {text[:60]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("zh", "错误"), ("zh-CN", "错误"), ("zh_CN", "错误"), ("en", "wrong"), ("fr", "wrong")],
)
def test_the_text_follows_the_language(tag: str, expected: str) -> None:
    assert errors.Invalid("wrong", "错误").text(tag) == expected


def test_without_a_chinese_sentence_the_english_one_is_shown() -> None:
    assert errors.Invalid("wrong").text("zh-CN") == "wrong"
