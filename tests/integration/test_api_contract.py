"""The request schemas keep the contract the OpenAPI document states.

Both checks walk every request body of the app's route table, so a field added tomorrow is
checked too: a JSON boolean is `true` or `false` (0, 1, "true" and "yes" are wrong types, as
a number sent for a string is), and a name field states its rule's pattern and length, which
accept and refuse exactly what the server does.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from fastapi.routing import APIRoute
from pydantic.fields import FieldInfo
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.domain import names
from tests.integration.test_ram_support import API, Owner, account, allow, document, expect, ok
from tests.integration.test_routes_declared import all_routes

USERS = f"{API}/ram/users"
# what lax validation would take for a boolean
NOT_BOOLEANS: tuple[object, ...] = (0, 1, 0.0, 1.0, "true", "false", "True", "yes", "no", "1", "on")
# rules no request body carries, and why
NOT_IN_A_BODY = {
    names.MACHINE_TYPE: "machine types are path parameters and capacity keys",
    names.REGION: "a region is picked from the existing ones (unknown: InvalidParameter.Region)",
}
# names every rule is tried on, besides its own boundaries
SAMPLES = (
    "",
    "a",
    "ab",
    "abc",
    "Abc",
    "abc1",
    "9abc",
    "1",
    "123",
    "_abc",
    "-abc",
    "abc-",
    "ab_c",
    "a-b",
    "a.b",
    "a@b.c",
    ".abc",
    "a b",
    "a/b",
    "a:b",
    "abc\n",
    "\nabc",
    "abc ",
    "a\x00b",
    "a\u202eb",
    "ｆｕｌｌ",  # fullwidth letters  # noqa: RUF001
    "café",
    "١٢٣",  # Arabic-Indic digits
    "项目",
    "flink-2.2.1",
    "flink-999.999.999",
    "flink-1000.0.0",
    "flink-2.2",
    "4c16g",
)


def request_models(api: TestClient) -> dict[str, type[pydantic.BaseModel]]:
    """Every model a request body of the API carries, nested ones included, by name (the
    console's forms are text, as query strings are)."""
    found: dict[str, type[pydantic.BaseModel]] = {}
    for route in all_routes(api.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or not route.path.startswith(f"{API}/"):
            continue
        for param in route.dependant.body_params:
            models = list(_models_in(param.field_info.annotation))
            assert models, f"{route.path}: a body that is not a model escapes these checks"
            found.update((model.__name__, model) for model in models)
    return found


def _models_in(annotation: object) -> Iterator[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def _accepts(model: type[pydantic.BaseModel], field: str, value: object) -> bool:
    """Whether the model's validation of `field` (the server's) takes `value`."""
    try:
        model.__pydantic_validator__.validate_assignment(model.model_construct(), field, value)
    except (pydantic.ValidationError, errors.Invalid):
        return False
    return True


# ---------------------------------------------------------------- booleans


def _shaped(annotation: object, value: object) -> object | None:
    """`value` where the annotation holds a boolean (in a list or a dict too), else None."""
    if annotation is bool:
        return value
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _shaped(arguments[0], value)
    if origin in (list, set, tuple, frozenset):
        inner = _shaped(arguments[0], value) if arguments else None
        return None if inner is None else [inner]
    if origin is dict:
        inner = _shaped(arguments[1], value) if len(arguments) == 2 else None
        return None if inner is None else {"key": inner}
    for argument in arguments:  # a union: its boolean member
        inner = _shaped(argument, value)
        if inner is not None:
            return inner
    return None


def boolean_fields(api: TestClient) -> list[tuple[type[pydantic.BaseModel], str, FieldInfo]]:
    return [
        (model, name, field)
        for model in request_models(api).values()
        for name, field in model.model_fields.items()
        if _shaped(field.annotation, True) is not None
    ]


@pytest.mark.one_database
def test_every_boolean_of_a_request_is_strict(api: TestClient) -> None:
    fields = boolean_fields(api)
    named = {f"{model.__name__}.{name}" for model, name, _ in fields}
    assert {"UserCreate.console_enabled", "OrderCreate.agree_to_terms"} <= named, named
    lax = []
    for model, name, field in fields:
        for truth in (True, False):
            assert _accepts(model, name, _shaped(field.annotation, truth)), (model, name)
        lax += [
            f"{model.__name__}.{name} takes {value!r}"
            for value in NOT_BOOLEANS
            if _accepts(model, name, _shaped(field.annotation, value))
        ]
    assert not lax, "a boolean field takes what is not a boolean (use StrictBool): " + "; ".join(
        lax
    )


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
def test_a_user_is_not_created_with_a_non_boolean_console_flag(
    api: TestClient, value: object
) -> None:
    owner = account(api)
    body = {"name": "alice", "password": "Alice-pass-1", "console_enabled": value}
    refused = expect(api.post(USERS, headers=owner.headers, json=body), 422, "InvalidParameter")
    assert "console_enabled" in refused["message"]
    assert ok(api.get(USERS, headers=owner.headers))["users"] == []


def _alice(api: TestClient, owner: Owner) -> dict[str, Any]:
    body = {"name": "alice", "password": "Alice-pass-1", "console_enabled": True}
    created: dict[str, Any] = ok(api.post(USERS, headers=owner.headers, json=body), 201)
    assert created["console_enabled"] is True
    return created


@pytest.mark.parametrize("value", [0, 1, "false", "no"])
def test_a_user_is_not_changed_by_a_non_boolean_console_flag(
    api: TestClient, value: object
) -> None:
    owner = account(api)
    before = _alice(api, owner)
    body = {"display_name": "Alice", "console_enabled": value}
    refused = api.patch(f"{USERS}/alice", headers=owner.headers, json=body)
    assert "console_enabled" in expect(refused, 422, "InvalidParameter")["message"]
    assert ok(api.get(f"{USERS}/alice", headers=owner.headers)) == before
    # the JSON boolean itself does change it
    body = {"console_enabled": False}
    changed = ok(api.patch(f"{USERS}/alice", headers=owner.headers, json=body))
    assert changed["console_enabled"] is False


def test_a_policy_version_is_not_made_default_by_a_non_boolean(api: TestClient) -> None:
    owner = account(api)
    policy = {"name": "readers", "document": document(allow("stream:*"))}
    ok(api.post(f"{API}/ram/policies", headers=owner.headers, json=policy), 201)
    versions = f"{API}/ram/policies/Custom/readers/versions"
    before = ok(api.get(versions, headers=owner.headers))
    body = {"document": policy["document"], "set_as_default": 1}
    expect(api.post(versions, headers=owner.headers, json=body), 422, "InvalidParameter")
    assert ok(api.get(versions, headers=owner.headers)) == before


# ---------------------------------------------------------------- names


def _rules_of(field: FieldInfo) -> set[names.Rule]:
    """The name rules whose check validates the field (`AfterValidator(rule.check)`)."""
    found: set[names.Rule] = set()

    def visit(item: object) -> None:
        if isinstance(item, pydantic.AfterValidator):
            rule = getattr(item.func, "__self__", None)
            if isinstance(rule, names.Rule):
                found.add(rule)
        for argument in typing.get_args(item):
            visit(argument)

    for item in (*field.metadata, field.annotation):
        visit(item)
    return found


def name_fields(
    api: TestClient,
) -> dict[names.Rule, list[tuple[type[pydantic.BaseModel], str, FieldInfo]]]:
    found: dict[names.Rule, list[tuple[type[pydantic.BaseModel], str, FieldInfo]]] = {}
    for model in request_models(api).values():
        for name, field in model.model_fields.items():
            for rule in _rules_of(field):
                found.setdefault(rule, []).append((model, name, field))
    return found


def _stated(spec: dict[str, Any], model: type[pydantic.BaseModel], field: str) -> dict[str, Any]:
    """The field's schema in the document (its string member, when it may be null)."""
    schemas = spec["components"]["schemas"]
    schema = schemas.get(model.__name__) or schemas[f"{model.__name__}-Input"]
    found: dict[str, Any] = schema["properties"][field]
    return next((part for part in found.get("anyOf", []) if "pattern" in part), found)


def _document_accepts(stated: dict[str, Any], value: str) -> bool:
    """What a JSON Schema validator decides: the lengths in code points, and the pattern as
    ECMA-262 reads it: searched, not full-matched, with `$` at the very end of the text
    (Python's `$` also matches before a final newline, so `\\Z` stands in for it)."""
    pattern = re.sub(r"(?<!\\)\$$", r"\\Z", stated["pattern"])
    return (
        stated.get("minLength", 0) <= len(value) <= stated.get("maxLength", len(value))
        and re.search(pattern, value) is not None
    )


@pytest.mark.one_database
def test_every_name_rule_is_stated_where_a_request_carries_it(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    fields = name_fields(api)
    assert set(fields) | set(NOT_IN_A_BODY) == set(names.RULES), "a rule no body carries"
    assert not set(fields) & set(NOT_IN_A_BODY), "a rule in NOT_IN_A_BODY is in a body now"
    for rule, carried in fields.items():
        for model, name, _ in carried:
            stated = _stated(spec, model, name)
            where = f"{model.__name__}.{name}"
            assert stated["type"] == "string", where
            assert stated["pattern"] == rule.pattern, where
            assert stated["maxLength"] == rule.max_length, where
            assert stated["minLength"] == 1, where
            assert stated["description"] == rule.words, where


@pytest.mark.one_database
def test_the_stated_patterns_accept_what_the_server_accepts(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    for rule, carried in name_fields(api).items():
        longest = rule.max_length
        samples = (
            *SAMPLES,
            "a" * longest,
            "a" * (longest + 1),
            "A" + "1" * (longest - 1),
            "a" + "-" * (longest - 2) + "a",
            "1" + "a" * (longest - 1),
        )
        for model, name, _ in carried:
            stated = _stated(spec, model, name)
            decided = {value: _accepts(model, name, value) for value in samples}
            differ = [
                value
                for value, taken in decided.items()
                if taken != _document_accepts(stated, value)
            ]
            assert not differ, (f"{model.__name__}.{name}", differ)
            assert any(decided.values()) and not all(decided.values()), (rule.code, decided)


@pytest.mark.parametrize("name", ["", "a" * 129, "ａlice", "alice\n"])  # noqa: RUF001
def test_a_name_outside_the_rule_gets_the_rule_s_code(api: TestClient, name: str) -> None:
    """Empty and overlong names are refused by the rule, with its code, like any other."""
    owner = account(api)
    refused = api.post(USERS, headers=owner.headers, json={"name": name})
    expect(refused, 400, "InvalidParameter.UserName")
    assert ok(api.get(USERS, headers=owner.headers))["users"] == []
