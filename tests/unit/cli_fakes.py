"""The API's answers as the CLI's tests build them: a response model with the fields a server
sends (`defaults`), some of them changed for the test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

AT = "2025-01-01T00:00:00Z"

Model = TypeVar("Model", bound=pydantic.BaseModel)


def answer(model: type[Model], defaults: Mapping[str, Any], change: Mapping[str, Any]) -> Model:
    """`model` as the API answers it: `defaults` with `change` over them."""
    return model.model_validate({**defaults, **change})
