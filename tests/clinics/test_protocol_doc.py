"""``docs/clinic-protocol.md`` and the code cannot drift apart: the document lists exactly the
message types and close codes that ``backend.clinics.signalling`` defines, and the room's code
closes sockets only with those codes."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

from pydantic import BaseModel

from backend.clinics import signalling
from backend.clinics.signalling import ClientMessage, CloseCode, Out

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clinic-protocol.md"


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def _documented_types(title: str) -> set[str]:
    return set(re.findall(r"^### `([a-z_]+)`$", _section(title), re.MULTILINE))


def _literals(model: type[BaseModel]) -> set[str]:
    return set(typing.get_args(model.model_fields["t"].annotation))


def _client_types() -> set[str]:
    union = typing.get_args(ClientMessage)[0]  # Annotated[Union[...], Field(...)]
    return {t for model in typing.get_args(union) for t in _literals(model)}


def _server_types() -> set[str]:
    found: set[str] = set()
    models: list[type[Out]] = list(Out.__subclasses__())
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        found |= _literals(model)
    return found


def test_every_client_message_is_documented_and_nothing_else() -> None:
    assert _client_types() == _documented_types("Client → server messages")
    assert "leave" in _client_types()


def test_every_server_message_is_documented_and_nothing_else() -> None:
    assert _server_types() == _documented_types("Server → client messages")
    assert {"sdp", "ice", "bye", "welcome", "error"} <= _server_types()


def test_every_close_code_is_documented_once_with_one_meaning() -> None:
    rows = re.findall(r"^\| (\d{4}) \| ([^|]+) \|", _section("Close codes"), re.MULTILINE)
    codes = [int(code) for code, _ in rows]
    assert sorted(codes) == sorted(c.value for c in CloseCode)
    assert len(codes) == len(set(codes))  # one row, so one meaning, per code
    assert len({meaning.strip() for _, meaning in rows}) == len(rows)  # and no two codes share one


def test_sockets_are_closed_only_with_the_documented_codes() -> None:
    """No bare number in a close() call of the room's modules: each must be a CloseCode."""
    package = Path(signalling.__file__).parent
    bare: list[str] = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "close":
                continue
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg == "code")]
            bare += [
                f"{path.name}:{node.lineno}"
                for argument in arguments
                if isinstance(argument, ast.Constant) and isinstance(argument.value, int)
            ]
    assert bare == []
