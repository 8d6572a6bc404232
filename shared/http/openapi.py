"""OpenAPI 3.1 description built from the same pydantic models the handlers validate with.

Each service keeps one `ApiSpec`; handlers are annotated with `spec.operation(...)`, so the
document cannot drift from the code that parses requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


class ApiSpec:
    def __init__(self, title: str, version: str, description: str = "") -> None:
        self.title = title
        self.version = version
        self.description = description
        self._paths: dict[str, dict[str, Any]] = {}
        self._schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        request: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        responses: Mapping[int, type[BaseModel] | str] | None = None,
        tags: tuple[str, ...] = (),
        public: bool = False,
    ) -> Callable[[F], F]:
        op: dict[str, Any] = {"summary": summary, "tags": list(tags), "responses": {}}
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_params(path)
        ]
        if query is not None:
            schema = self._schema(query)
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                params.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        if params:
            op["parameters"] = params
        if request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self._ref(request)}},
            }
        for status, body in (responses or {200: "OK"}).items():
            op["responses"][str(status)] = self._response(status, body)
        for status in (400, 401, 403) if not public else (400,):
            op["responses"].setdefault(str(status), self._response(status, "Problem"))
        if not public:
            op["security"] = [{"bearer": []}, {"cookie": []}]
        self._paths.setdefault(path, {})[method.lower()] = op

        def decorate(handler: F) -> F:
            return handler

        return decorate

    def _response(self, status: int, body: type[BaseModel] | str) -> dict[str, Any]:
        if isinstance(body, str):
            if status >= 400 or body == "Problem":
                return {
                    "description": body,
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            return {"description": body}
        return {
            "description": body.__name__,
            "content": {"application/json": {"schema": self._ref(body)}},
        }

    def _schema(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            self._schemas[name] = sub
        return schema

    def _ref(self, model: type[BaseModel]) -> dict[str, str]:
        self._schemas[model.__name__] = self._schema(model)
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def document(self) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version, "description": self.description},
            "paths": self._paths,
            "components": {
                "schemas": self._schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "signpost_session"},
                },
            },
        }


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]
