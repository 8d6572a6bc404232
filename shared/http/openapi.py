"""OpenAPI 3.1 description built from the same pydantic models the handlers validate with.

Each service keeps one `ApiSpec`; each route module declares its handlers on `ApiRoutes`
(`routes = ApiRoutes(spec)`, then `@routes.get(path, summary=..., ...)`), which adds the
aiohttp route and its OpenAPI operation in one step, so neither can exist without the other
and the document cannot drift from the code that parses requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

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


REF = "#/components/schemas/{model}"
LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"


def _local_times(schema: Any) -> Any:
    """A time of day is served without an offset ("08:30:00"), which JSON Schema's `time`
    format refuses: describe it by a pattern instead."""
    if isinstance(schema, dict):
        if schema.get("format") == "time":
            schema = {k: v for k, v in schema.items() if k != "format"} | {"pattern": LOCAL_TIME}
        return {k: _local_times(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_local_times(v) for v in schema]
    return schema


def _renamed(schema: Any, renamed: dict[str, str]) -> Any:
    """`schema` with its references to the `renamed` components pointing at their new names."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        name = ref.removeprefix(REF.format(model=""))
        if ref and name in renamed:
            return {**schema, "$ref": REF.format(model=renamed[name])}
        return {k: _renamed(v, renamed) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_renamed(v, renamed) for v in schema]
    return schema


@dataclass(frozen=True)
class Link:
    """An operation a response leads to: its method and path (as routed), and its
    parameters as runtime expressions such as `$response.body#/id`."""

    method: str
    path: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    request_body: str | None = None

    def document(self) -> dict[str, Any]:
        name_free, _ = split_path(self.path)
        pointer = name_free.replace("~", "~0").replace("/", "~1")
        doc: dict[str, Any] = {"operationRef": f"#/paths/{pointer}/{self.method.lower()}"}
        if self.parameters:
            doc["parameters"] = dict(self.parameters)
        if self.request_body is not None:
            doc["requestBody"] = self.request_body
        return doc


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
        also_served_as: tuple[str, ...] = (),
        links: Mapping[str, Link] | None = None,
    ) -> Callable[[F], F]:
        """Describe one operation; `path` is as aiohttp routes it (see `split_path`).

        `links` name the operations a success leads to, and where their parameters come from
        in it (OpenAPI links: a client, or Schemathesis's stateful phase, follows them).

        Besides the declared responses, the problems the shared request handling serves are
        documented: 422 for any parameter or body, 413 and 415 for a body, 404 for an id in
        the path. `also_served_as` names other media types of the success response (text).
        """
        op: dict[str, Any] = {"summary": summary, "tags": list(tags), "responses": {}}
        path, patterns = split_path(path)
        params = [
            {"name": name, "in": "path", "required": True, "schema": _path_schema(pattern)}
            for name, pattern in patterns.items()
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
                "content": {"application/json": {"schema": self._ref(request, "validation")}},
            }
        for status, body in (responses or {200: "OK"}).items():
            op["responses"][str(status)] = self._response(status, body)
        success = min(op["responses"], key=lambda status: status[0] != "2")
        for media in also_served_as:
            content = op["responses"][success].setdefault("content", {})
            content[media] = {"schema": {"type": "string"}}
        if links:
            op["responses"][success]["links"] = {
                name: link.document() for name, link in links.items()
            }
        served = [400] if public else [400, 401, 403]
        if params or request is not None:
            served.append(422)
        if request is not None:
            served += [413, 415]
        if patterns:
            served.append(404)
        for status in served:
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
            "content": {"application/json": {"schema": self._ref(body, "serialization")}},
        }

    def _schema(
        self, model: type[BaseModel], mode: JsonSchemaMode = "validation"
    ) -> dict[str, Any]:
        """The model's schema as it is read (`validation`) or as it is served, by alias.

        A model whose two schemas differ (a type documented one way when read and another
        when served) keeps the name it was first described under for that schema, and the
        other is named with `-Input` or `-Output`, as pydantic does.
        """
        schema = model.model_json_schema(ref_template=REF, mode=mode, by_alias=True)
        defs = {name: _local_times(sub) for name, sub in schema.pop("$defs", {}).items()}
        schema = _local_times(schema)
        suffix = "-Input" if mode == "validation" else "-Output"
        renamed: dict[str, str] = {}
        while True:  # renaming one may change another that refers to it
            clashes = {
                name: name + suffix
                for name, sub in defs.items()
                if self._schemas.get(name, _renamed(sub, renamed)) != _renamed(sub, renamed)
            }
            if clashes == renamed:
                break
            renamed = clashes
        for name, sub in defs.items():
            self._schemas[renamed.get(name, name)] = _renamed(sub, renamed)
        described: dict[str, Any] = _renamed(schema, renamed)
        return described

    def _ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, str]:
        schema = self._schema(model, mode)
        name = model.__name__
        if self._schemas.get(name, schema) != schema:
            name += "-Input" if mode == "validation" else "-Output"
        self._schemas[name] = schema
        return {"$ref": REF.format(model=name)}

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


class ApiRoutes:
    """A service's routes, each declared once with its OpenAPI operation.

    `@routes.post("/api/v1/things/{id}", summary=..., request=Model, responses={...})` takes
    the aiohttp path (a parameter may carry a regular expression, `{year:\\d{4}}`, which
    becomes the parameter's `pattern` in the document) and the keywords of
    `ApiSpec.operation`. Iterating gives the route definitions for `router.add_routes`.
    """

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self._table = web.RouteTableDef()

    def get(self, path: str, **doc: Any) -> Callable[[F], F]:
        return self._operation("GET", path, doc)

    def post(self, path: str, **doc: Any) -> Callable[[F], F]:
        return self._operation("POST", path, doc)

    def put(self, path: str, **doc: Any) -> Callable[[F], F]:
        return self._operation("PUT", path, doc)

    def patch(self, path: str, **doc: Any) -> Callable[[F], F]:
        return self._operation("PATCH", path, doc)

    def delete(self, path: str, **doc: Any) -> Callable[[F], F]:
        return self._operation("DELETE", path, doc)

    def _operation(self, method: str, path: str, doc: dict[str, Any]) -> Callable[[F], F]:
        documented = self.spec.operation(method, path, **doc)
        routed = self._table.route(method, path)

        def decorate(handler: F) -> F:
            routed(documented(handler))
            return handler

        return decorate

    def __iter__(self) -> Iterator[web.AbstractRouteDef]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def split_path(path: str) -> tuple[str, dict[str, str | None]]:
    """An aiohttp path as OpenAPI writes it, and each parameter's regular expression (if any).

    `/a/{id}/{year:\\d{4}-\\d{2}}` gives `/a/{id}/{year}` and `{"id": None, "year": ...}`;
    braces inside a parameter's expression are balanced, as aiohttp requires.
    """
    out: list[str] = []
    params: dict[str, str | None] = {}
    i = 0
    while i < len(path):
        if path[i] != "{":
            out.append(path[i])
            i += 1
            continue
        depth, j = 1, i + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(path[j], 0)
            j += 1
        name, _, pattern = path[i + 1 : j - 1].partition(":")
        params[name] = pattern or None
        out.append("{" + name + "}")
        i = j
    return "".join(out), params


def _path_schema(pattern: str | None) -> dict[str, str]:
    if pattern is None:
        return {"type": "string"}
    return {"type": "string", "pattern": f"^(?:{pattern})$"}
