"""HTTP surface of the local API: URL layout, query parameters, content negotiation, watches."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import yaml
from aiohttp import web

from events.localapi import discovery, errors, filters, openapi_docs, protobuf, tables
from events.localapi.errors import APIError, cause
from events.localapi.filters import Filter
from events.localapi.paging import Pager
from events.localapi.requestlog import RequestLog, RequestRecord
from events.localapi.resources import Registry, ResourceType, in_version
from events.localapi.store import Obj, Store
from events.localapi.verbs import APPLY_PATCH, DeleteOptions, Verbs
from events.localapi.watch import DEFAULT_TIMEOUT, Watches, WatchRequest

log = logging.getLogger(__name__)

JSON: Final = "application/json"
PUBLIC_PATHS: Final = frozenset({"/version", "/healthz", "/livez", "/readyz"})


@dataclass(frozen=True)
class Target:
    """A resource request, parsed from the URL."""

    rt: ResourceType
    namespace: str
    name: str
    subresource: str


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=_dumps(body), status=status, content_type=JSON)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


_OPTIONS_KIND: Final = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
    "deletecollection": "DeleteOptions",
}


def _dry_run(values: list[str], verb: str) -> bool:
    """The dryRun parameter: "All" or nothing, as kube-apiserver's options validation says."""
    unsupported = [v for v in values if v != "All"]
    if unsupported and verb in _OPTIONS_KIND:
        raise errors.invalid(
            errors.Qualified("meta.k8s.io", "", _OPTIONS_KIND[verb]),
            "",
            [
                cause(
                    "FieldValueNotSupported",
                    "dryRun",
                    f'Unsupported value: {unsupported!r}: supported values: "All"',
                )
            ],
        )
    return "All" in values


_SERIALIZABLE: Final = frozenset({"application/json", "application/yaml", "application/*", "*/*"})


def _check_acceptable(accept: str) -> None:
    """406 when the client accepts nothing this server writes (JSON, or YAML)."""
    types = {part.split(";")[0].strip() for part in accept.split(",")} - {""}
    if types and not types & _SERIALIZABLE:
        raise APIError(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml",
        )


def _check_path_segment(name: str) -> None:
    """kube-apiserver refuses a name that could not be one path segment (400), before routing."""
    problem = ""
    if name in (".", ".."):
        problem = f"may not be '{name}'"
    else:
        problem = next((f"may not contain '{c}'" for c in "/%" if c in name), "")
    if problem:
        raise errors.bad_request(f'Name parameter invalid: "{name}": {problem}')


def _wants(accept: str, as_kind: str) -> bool:
    """Whether the Accept header asks for a meta.k8s.io conversion such as Table."""
    for part in accept.split(","):
        params = {
            p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in part.split(";")[1:]
        }
        if params.get("as") == as_kind and params.get("g") == "meta.k8s.io":
            return True
    return False


def _strip_type(rt: ResourceType, obj: Obj) -> Obj:
    # Items of typed built-in lists carry no apiVersion/kind; unstructured (CR) ones do.
    obj = in_version(rt, obj)
    if rt.custom:
        return obj
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


class Routes:
    def __init__(
        self,
        *,
        store: Store,
        registry: Registry,
        verbs: Verbs,
        requests: RequestLog,
        token: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        bookmark_interval: float = 60.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.verbs = verbs
        self.requests = requests
        self.token = token
        self.clock = clock
        self.server_address = ""
        self.pager = Pager()
        self.watches = Watches(
            store=store, clock=clock, encode=_dumps, bookmark_interval=bookmark_interval
        )

    # -- entry point -------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        record = {
            "verb": request.method.lower(),
            "group": "",
            "version": "",
            "resource": "",
            "subresource": "",
            "namespace": "",
            "name": request.path,
        }
        code = 500
        try:
            self._authenticate(request)
            response = await self._dispatch(request, record)
            code = response.status
            return response
        except APIError as exc:
            code = exc.code
            return json_response(exc.status(), exc.code)
        except Exception:
            log.exception("internal error serving %s %s", request.method, request.path)
            code = 500
            return json_response(
                APIError(
                    500,
                    "InternalError",
                    "an error on the server prevented the request from succeeding",
                ).status(),
                500,
            )
        finally:
            self.requests.append(
                RequestRecord(code=code, user_agent=request.headers.get("User-Agent", ""), **record)
            )

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header and request.path in PUBLIC_PATHS:
            return  # system:public-info-viewer lets anonymous users read these
        scheme, _, credential = header.partition(" ")
        # Constant time: how long a refusal takes says nothing about the token.
        sent = credential.strip().encode(errors="replace")
        matches = hmac.compare_digest(sent, self.token.encode())
        if scheme.lower() != "bearer" or not matches:
            raise errors.unauthorized()

    async def _dispatch(self, request: web.Request, record: dict[str, Any]) -> web.StreamResponse:
        segments = [s for s in request.path.split("/") if s]
        if not segments:
            return json_response(
                {"paths": ["/api", "/api/v1", "/apis", "/openapi/v2", "/openapi/v3", "/version"]}
            )
        head = segments[0]
        if request.path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if request.path == "/metrics":
            return web.Response(text=self.requests.exposition())
        if head == "version" and len(segments) == 1:
            return json_response(discovery.VERSION_INFO)
        if head == "openapi":
            return self._openapi(request, segments)
        aggregated = discovery.wants_aggregated(request.headers.get("Accept", ""))
        if head == "api":
            if len(segments) == 1:
                if aggregated:
                    return self._aggregated(legacy=True)
                return json_response(discovery.api_versions(self.server_address))
            if segments[1] != "v1":
                raise errors.page_not_found()
            group, version, rest = "", "v1", segments[2:]
        elif head == "apis":
            if len(segments) == 1:
                if aggregated:
                    return self._aggregated(legacy=False)
                return json_response(discovery.api_group_list(self.registry))
            if len(segments) == 2:
                doc = discovery.api_group(self.registry, segments[1])
                if doc is None:
                    raise errors.page_not_found()
                return json_response(doc)
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            raise errors.page_not_found()
        if not rest:
            doc = discovery.api_resource_list(self.registry, group, version)
            if doc is None:
                raise errors.page_not_found()
            return json_response(doc)
        target = self._target(group, version, rest)
        verb = self._verb(request, target)
        record.update(
            verb=verb,
            group=group,
            version=version,
            resource=target.rt.plural,
            subresource=target.subresource,
            namespace=target.namespace,
            name=target.name,
        )
        _check_path_segment(target.name)
        return await self._serve(request, verb, target)

    def _aggregated(self, *, legacy: bool) -> web.Response:
        body = _dumps(discovery.aggregated(self.registry, legacy=legacy))
        response = web.Response(body=body)
        response.headers["Content-Type"] = discovery.AGGREGATED_MEDIA_TYPE
        return response

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        if len(rest) >= 3 and rest[0] == "namespaces":
            rt = self.registry.get(group, version, rest[2])
            if rt is not None and rt.namespaced and len(rest) <= 5:
                return Target(
                    rt, rest[1], rest[3] if len(rest) > 3 else "", rest[4] if len(rest) > 4 else ""
                )
        rt = self.registry.get(group, version, rest[0])
        if rt is None or len(rest) > 3:
            raise errors.page_not_found()
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if rt.namespaced and name:
            raise errors.page_not_found()  # a namespaced object needs its namespace
        if sub and not (sub == "status" and rt.status_subresource):
            raise errors.page_not_found()
        return Target(rt, "", name, sub)

    def _verb(self, request: web.Request, target: Target) -> str:
        method = request.method
        if target.subresource and target.subresource != "status":
            raise errors.page_not_found()
        if target.subresource == "status" and not target.rt.status_subresource:
            raise errors.page_not_found()
        if method == "GET":
            if target.name:
                return "get"
            return "watch" if _truthy(request.query.get("watch")) else "list"
        if target.rt.namespaced and not target.namespace:
            raise errors.method_not_allowed()  # the all-namespaces path only reads
        if target.subresource and method in ("POST", "DELETE"):
            raise errors.method_not_allowed()
        if method == "POST" and not target.name:
            return "create"
        if method == "PUT" and target.name:
            return "update"
        if method == "PATCH" and target.name:
            return "patch"
        if method == "DELETE":
            return "delete" if target.name else "deletecollection"
        raise errors.method_not_allowed()

    # -- resource verbs ----------------------------------------------------

    async def _serve(self, request: web.Request, verb: str, target: Target) -> web.StreamResponse:
        query = request.query
        rt, namespace = target.rt, target.namespace
        _check_acceptable(request.headers.get("Accept", ""))
        if verb == "watch":
            return await self.watches.serve(
                request,
                WatchRequest(
                    rt=rt,
                    matches=self._filter(request, rt, namespace),
                    resource_version=query.get("resourceVersion", ""),
                    timeout=float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT),
                    bookmarks=_truthy(query.get("allowWatchBookmarks")),
                    initial_events=_truthy(query.get("sendInitialEvents")),
                    as_table=_wants(request.headers.get("Accept", ""), "Table"),
                    include_object=query.get("includeObject", "Metadata"),
                ),
            )
        validation = query.get("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise errors.bad_request(
                f"fieldValidation parameter unsupported: {validation}. "
                "Only Ignore, Warn, and Strict are supported"
            )
        body: Any = None
        options = DeleteOptions()
        if verb in ("create", "update", "patch"):
            apply = verb == "patch" and request.content_type == APPLY_PATCH
            body = await self._body(request, yaml_ok=apply)
        elif verb in ("delete", "deletecollection"):
            options = await self._delete_options(request)
        # Nothing awaits from here on, so the per-request settings on verbs stay ours.
        self.verbs.field_validation = validation
        self.verbs.warnings = []
        response = self._serve_now(request, verb, target, body, options)
        for warning in self.verbs.warnings:
            response.headers.add("Warning", f"299 - {json.dumps(warning)}")
        return response

    def _serve_now(
        self,
        request: web.Request,
        verb: str,
        target: Target,
        body: Any,
        options: DeleteOptions,
    ) -> web.Response:
        rt, namespace, name = target.rt, target.namespace, target.name
        query = request.query
        dry_run = _dry_run(query.getall("dryRun", []), verb)
        if verb == "get":
            return self._render(request, rt, self.verbs.get(rt, namespace, name))
        if verb == "list":
            return self._list(request, rt, namespace)
        if verb == "create":
            obj = self.verbs.create(rt, namespace, body, dry_run=dry_run)
            return self._render(request, rt, obj, status=201)
        existed = self.store.get(rt.key, namespace, name) is not None
        if verb == "update":
            obj = self.verbs.update(
                rt, namespace, name, body, subresource=target.subresource, dry_run=dry_run
            )
            return self._render(request, rt, obj, status=200 if existed else 201)
        if verb == "patch":
            obj = self.verbs.patch(
                rt,
                namespace,
                name,
                request.content_type,
                body,
                subresource=target.subresource,
                field_manager=query.get("fieldManager", ""),
                force=_truthy(query.get("force")),
                dry_run=dry_run,
            )
            return self._render(request, rt, obj, status=200 if existed else 201)
        if verb == "delete":
            last, gone = self.verbs.delete(rt, namespace, name, options)
            if gone and not rt.return_deleted_object:
                details: dict[str, Any] = {
                    "name": name,
                    "kind": rt.plural,
                    "uid": last["metadata"]["uid"],
                }
                if rt.group:
                    details["group"] = rt.group
                return json_response(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Success",
                        "details": details,
                    }
                )
            return self._render(request, rt, last)
        # deletecollection
        matches = self._filter(request, rt, namespace)
        selected = [
            o for o in self.store.items(rt.key, namespace, label=matches.label) if matches(o)
        ]
        deleted = self.verbs.delete_collection(rt, namespace, selected, options)
        return json_response(
            {
                "kind": rt.list_kind_name,
                "apiVersion": rt.group_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": [_strip_type(rt, o) for o in deleted],
            }
        )

    async def _body(self, request: web.Request, *, yaml_ok: bool = False) -> Any:
        raw = await request.read()
        if not raw:
            raise errors.bad_request("the body of the request is empty")
        if request.content_type == protobuf.MEDIA_TYPE:
            try:
                return protobuf.decode(raw)
            except protobuf.ProtobufError as exc:
                raise errors.APIError(415, "UnsupportedMediaType", str(exc)) from exc
        try:
            if yaml_ok:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(
                f"the body of the request was in an unknown format: {exc}"
            ) from exc

    async def _delete_options(self, request: web.Request) -> DeleteOptions:
        query = request.query
        body: dict[str, Any] = {}
        raw = await request.read()
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise errors.bad_request(f"invalid DeleteOptions: {exc}") from exc
            if isinstance(parsed, dict):
                body = parsed
        preconditions = body.get("preconditions") or {}
        dry_run: list[str] = list(body.get("dryRun") or query.getall("dryRun", None) or [])
        propagation = body.get("propagationPolicy") or query.get("propagationPolicy", "")
        if body.get("orphanDependents") is True or query.get("orphanDependents") == "true":
            propagation = propagation or "Orphan"
        if propagation not in ("", "Background", "Foreground", "Orphan"):
            raise errors.bad_request(f"unsupported propagationPolicy {propagation!r}")
        return DeleteOptions(
            propagation=propagation,
            uid=str(preconditions.get("uid") or ""),
            resource_version=str(preconditions.get("resourceVersion") or ""),
            dry_run="All" in dry_run,
        )

    def _filter(self, request: web.Request, rt: ResourceType, namespace: str) -> Filter:
        return filters.from_query(request.query, namespace=namespace, kind=rt.kind)

    def _render(
        self, request: web.Request, rt: ResourceType, obj: Obj, *, status: int = 200
    ) -> web.Response:
        accept = request.headers.get("Accept", "")
        if accept and accept != JSON and "as=" in accept:
            if _wants(accept, "Table"):
                body = tables.table(
                    rt,
                    [obj],
                    include_object=request.query.get("includeObject", "Metadata"),
                    now=self.clock(),
                    list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                )
                return json_response(body, status)
            if _wants(accept, "PartialObjectMetadata"):
                return json_response(
                    {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"],
                    },
                    status,
                )
        return json_response(in_version(rt, obj), status)

    def _list(self, request: web.Request, rt: ResourceType, namespace: str) -> web.Response:
        query = request.query
        matches = self._filter(request, rt, namespace)
        page = self.pager.page(
            select=lambda: [
                o for o in self.store.items(rt.key, namespace, label=matches.label) if matches(o)
            ],
            current_rv=self.store.rv,
            oldest_rv=self.store.oldest_rv,
            limit=int(query.get("limit", "0") or 0),
            token=query.get("continue", ""),
        )
        selected = page.items
        meta: dict[str, Any] = {"resourceVersion": str(page.resource_version)}
        if page.continue_token:
            meta["continue"] = page.continue_token
            meta["remainingItemCount"] = page.remaining
        accept = request.headers.get("Accept", "")
        if "as=" in accept:
            if _wants(accept, "Table"):
                return json_response(
                    tables.table(
                        rt,
                        selected,
                        include_object=query.get("includeObject", "Metadata"),
                        now=self.clock(),
                        list_meta=meta,
                    )
                )
            if _wants(accept, "PartialObjectMetadataList"):
                return json_response(
                    {
                        "kind": "PartialObjectMetadataList",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": meta,
                        "items": [
                            {
                                "kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": o["metadata"],
                            }
                            for o in selected
                        ],
                    }
                )
        return json_response(
            {
                "kind": rt.list_kind_name,
                "apiVersion": rt.group_version,
                "metadata": meta,
                "items": [_strip_type(rt, o) for o in selected],
            }
        )

    # -- watch -------------------------------------------------------------

    # -- openapi -----------------------------------------------------------

    def _openapi(self, request: web.Request, segments: list[str]) -> web.Response:
        if segments == ["openapi", "v3"]:
            return json_response(openapi_docs.v3_index(self.registry))
        if len(segments) >= 3 and segments[1] == "v3":
            doc = openapi_docs.v3_document(self.registry, "/".join(segments[2:]))
            if doc is not None:
                return json_response(doc)
        raise errors.page_not_found()
