"""JSON Schema (draft 2020-12) of the file formats, for editors such as yaml-language-server.

Keys are written by alias (``apiVersion``, ``for``, ``as``); every model and field carries the
description its docstring gives (pydantic takes class docstrings; field docstrings, the string
literal under an attribute, are read here from the source and put before the description of
the field's type, e.g. of a duration).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Literal, get_args

from pydantic import BaseModel

from tabletop.drill.script import ResponderScript
from tabletop.scenario.model import Scenario
from tabletop.scoring.rubric import Rubric

SchemaKind = Literal["scenario", "rubric", "script"]
_ROOTS: dict[str, tuple[type[BaseModel], str]] = {
    "scenario": (Scenario, "tabletop scenario (tabletop/v1)"),
    "rubric": (Rubric, "tabletop rubric (tabletop/v1)"),
    "script": (ResponderScript, "tabletop responder script (tabletop/v1)"),
}


def json_schema(kind: SchemaKind = "scenario") -> dict[str, Any]:
    """The JSON Schema of one file kind: ``scenario``, ``rubric`` or ``script``."""
    if kind not in _ROOTS:
        raise ValueError(f"unknown schema kind {kind!r}; kinds: {', '.join(_ROOTS)}")
    root, title = _ROOTS[kind]
    return model_schema(root, kind, title)


def model_schema(root: type[BaseModel], kind: str, title: str) -> dict[str, Any]:
    """The JSON Schema of the file format whose model is ``root`` (also the formats of packages
    that build on the scenario's, such as reliability fleets and sweeps)."""
    body = root.model_json_schema(by_alias=True, mode="validation")
    definitions = body.get("$defs", {})
    for model in _models(root):
        target = body if model is root else definitions.get(model.__name__)
        if target is not None:
            _describe_fields(model, target)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:tabletop:schema:v1:{kind}",
        **{key: value for key, value in body.items() if key != "title"},
        "title": title,
    }


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """``root`` and every model reachable from its fields."""
    found: list[type[BaseModel]] = []
    pending: list[Any] = [root]
    while pending:
        tp = pending.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in found:
                continue
            found.append(tp)
            pending.extend(field.annotation for field in tp.model_fields.values())
        else:
            pending.extend(get_args(tp))
    return found


def _describe_fields(model: type[BaseModel], schema: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    for name, doc in _field_docstrings(model).items():
        field = model.model_fields.get(name)
        prop = properties.get(field.alias or name) if field is not None else None
        if prop is not None:
            general = prop.get("description")
            prop["description"] = f"{doc}\n\n{general}" if general and general != doc else doc


def _field_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """``name: type`` followed by a string literal, in the model and its bases."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for statement, following in zip(body, body[1:]):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
