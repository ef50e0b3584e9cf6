"""OpenAPI pieces the routes share: documented error answers and request bodies read by hand.

Routes that parse their body off the event loop (``json_body``) take the raw request, so FastAPI
does not see the body model: ``body_of(Model)`` documents it and ``add_request_schemas`` puts the
model's schema (and the schemas it refers to) into ``components.schemas``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class ErrorBody(BaseModel):
    """Every error answer: a message, and for validation errors each field's location."""

    error: str
    detail: list[dict[str, Any]] | None = None


def error_answer(description: str) -> dict[str, Any]:
    """A ``responses=`` entry: an ``ErrorBody`` with ``description``."""
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_answer("The body is valid JSON of the right shape but holds nothing to compute."),
    401: error_answer("R_IRT_INTERNAL_TOKEN is set and no bearer token was sent."),
    403: error_answer("The bearer token is wrong."),
    413: error_answer("The body is larger than this endpoint's limit."),
    422: error_answer("Invalid body (JSON, types, values, depth or array length), or no finite estimate."),
}
REF = "#/components/schemas/{model}"


def body_of(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route whose JSON body is ``model``."""
    schema = {"$ref": REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def add_request_schemas(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Wrap ``app.openapi`` so its schema also defines ``models`` (those named by ``body_of``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template=REF)
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas[model.__name__] = schema
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
