"""A small, typed Kubernetes API client over the `kubernetes` package's transport.

The `kubernetes` package gives us kubeconfig / in-cluster loading, auth refresh and a
pooled HTTP connection; we speak JSON dicts to it (the generated models are slow and
not needed) and map every failure to `shared.kube.errors`.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.watch.watch import iter_resp_lines

from shared.kube.errors import ApiError, NotFound, Unauthorized, Unavailable, from_response
from shared.kube.resources import Resource

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# urllib3 retries at once and logs a warning each time. A certificate that failed
# verification (an "other" error) or a refused connection fails again at once, so
# those are left to the caller's back-off; a pooled connection the server closed
# (a read error) is worth one more try.
RETRIES = urllib3.Retry(total=3, connect=0, other=0)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _segment(value: str | None) -> str | None:
    """One path segment, escaped: a name can never add segments or climb out of its own.

    '/' and '%' are escaped by quote(); '.' and '..' are not, and the HTTP client would
    resolve them as dot segments, so their dots are escaped too.
    """
    if not value:
        return value
    escaped = quote(value, safe="")
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def _path(
    resource: Resource, namespace: str | None = None, name: str | None = None, sub: str = ""
) -> str:
    return resource.path(_segment(namespace), _segment(name), sub)


def load_configuration(kubeconfig: str | Path | None = None) -> k8s.Configuration:
    """In-cluster config when running in a Pod, else the kubeconfig (explicit or $KUBECONFIG)."""
    configuration = k8s.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        k8s_config.load_incluster_config(client_configuration=configuration)
    else:
        path = str(kubeconfig) if kubeconfig else None
        k8s_config.load_kube_config(config_file=path, client_configuration=configuration)
    configuration.retries = RETRIES
    return configuration


def kubeconfig_source(kubeconfig: str | Path | None = None) -> Path | None:
    """The file load_configuration reads, None in a Pod (in-cluster config)."""
    if kubeconfig:
        return Path(kubeconfig)
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first or "~/.kube/config").expanduser()


def _read(path: Path | None) -> bytes | None:
    try:
        return None if path is None else path.read_bytes()
    except OSError:
        return None


def _untrusted(error: BaseException) -> bool:
    """Whether a transport error is the server's certificate failing verification."""
    pending: list[BaseException] = [error]
    for _ in range(16):  # urllib3 nests its reasons a few levels deep
        if not pending:
            return False
        current = pending.pop()
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        pending += [a for a in current.args if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        pending += [e for e in (reason, current.__cause__) if isinstance(e, BaseException)]
    return False


class _Untrusted(Unavailable):
    """The server's certificate is not signed by the CA we were given."""


class Kube:
    """JSON-in, JSON-out access to the Kubernetes API; thread-safe, one connection pool."""

    def __init__(
        self,
        configuration: k8s.Configuration,
        *,
        user_agent: str = "certainly",
        source: Path | None = None,
    ) -> None:
        """source: the kubeconfig to re-read when the server stops accepting us (401) or we
        stop trusting it (certificate verification), as after `local up` restarts."""
        self._user_agent = user_agent
        self._api = self._client(configuration)
        self._source = source
        self._loaded = _read(source)
        self._reload_lock = threading.Lock()

    def _client(self, configuration: k8s.Configuration) -> k8s.ApiClient:
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize, 16)
        api = k8s.ApiClient(configuration)
        api.user_agent = self._user_agent
        return api

    @classmethod
    def from_kubeconfig(
        cls, kubeconfig: str | Path | None = None, *, user_agent: str = "certainly"
    ) -> Kube:
        source = kubeconfig_source(kubeconfig)
        return cls(load_configuration(kubeconfig), user_agent=user_agent, source=source)

    @property
    def host(self) -> str:
        return str(self._api.configuration.host)

    def _reload(self, failed: k8s.ApiClient) -> bool:
        """Rebuild the client if the kubeconfig changed since it was read; True if it did."""
        with self._reload_lock:
            if self._api is not failed:
                return True  # another thread reloaded already
            content = _read(self._source)
            if content is None or content == self._loaded:
                return False
            try:
                configuration = load_configuration(self._source)
            except Exception as error:  # a kubeconfig being rewritten: next failure retries
                log.warning("cannot re-read %s: %s", self._source, error)
                return False
            self._api, self._loaded = self._client(configuration), content
        log.warning("the API server's identity changed: reloaded %s", self._source)
        return True

    def close(self) -> None:
        self._api.close()

    # -- transport -----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        stream: bool = False,
        timeout: float | None = 30.0,
    ) -> urllib3.HTTPResponse:
        api = self._api
        options: dict[str, Any] = {
            "query": query,
            "body": body,
            "content_type": content_type,
            "stream": stream,
            "timeout": timeout,
        }
        try:
            return self._send(api, method, path, **options)
        except (Unauthorized, _Untrusted):
            if not self._reload(api):
                raise
        return self._send(self._api, method, path, **options)

    def _send(
        self,
        api: k8s.ApiClient,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None,
        body: Any,
        content_type: str,
        stream: bool,
        timeout: float | None,
    ) -> urllib3.HTTPResponse:
        try:
            response = api.call_api(
                path,
                method,
                query_params=list((query or {}).items()),
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=None if stream else timeout,
            )
        except k8s.ApiException as error:
            raise from_response(error.status or 0, error.body) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            kind = _Untrusted if _untrusted(error) else Unavailable
            raise kind(0, "Unavailable", f"{method} {path}: {error}") from error
        return cast(urllib3.HTTPResponse, response)

    def _json(self, method: str, path: str, **kwargs: Any) -> Obj:
        response = self._call(method, path, **kwargs)
        try:
            return cast(Obj, json.loads(response.data or b"{}"))
        finally:
            response.release_conn()

    # -- verbs ---------------------------------------------------------------------

    def post(self, path: str, body: Obj) -> Obj:
        """POST to an arbitrary API path (aggregated APIs such as DNS-01 webhook solvers)."""
        return self._json("POST", path, body=body)

    def get(self, resource: Resource, namespace: str | None, name: str) -> Obj:
        return self._json("GET", _path(resource, namespace, name))

    def find(self, resource: Resource, namespace: str | None, name: str) -> Obj | None:
        """Like get, but None when the object does not exist."""
        try:
            return self.get(resource, namespace, name)
        except NotFound:
            return None

    def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> tuple[list[Obj], str]:
        """Every matching object (following `continue`), and the list's resourceVersion."""
        items: list[Obj] = []
        query: dict[str, str] = {"limit": str(page_size)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        while True:
            page = self._json("GET", _path(resource, namespace), query=query)
            kind = resource.kind
            for item in page.get("items") or []:
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", kind)
                items.append(item)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion") or "")
            query["continue"] = token

    def create(self, resource: Resource, obj: Obj) -> Obj:
        namespace = obj.get("metadata", {}).get("namespace")
        return self._json("POST", _path(resource, namespace), body=obj)

    def replace(self, resource: Resource, obj: Obj) -> Obj:
        """PUT; the object's metadata.resourceVersion is the precondition (409 if stale)."""
        meta = obj["metadata"]
        return self._json("PUT", _path(resource, meta.get("namespace"), meta["name"]), body=obj)

    def replace_status(self, resource: Resource, obj: Obj) -> Obj:
        meta = obj["metadata"]
        path = _path(resource, meta.get("namespace"), meta["name"], "status")
        return self._json("PUT", path, body=obj)

    def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        content_type: str = MERGE_PATCH,
        subresource: str = "",
    ) -> Obj:
        path = _path(resource, namespace, name, subresource)
        return self._json("PATCH", path, body=patch, content_type=content_type)

    def delete(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        propagation: str = "Background",
    ) -> None:
        """Delete with optional uid / resourceVersion preconditions (409 when they fail)."""
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        body["propagationPolicy"] = propagation
        preconditions = {
            k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v
        }
        if preconditions:
            body["preconditions"] = preconditions
        self._json("DELETE", _path(resource, namespace, name), body=body)

    def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
        bookmarks: bool = True,
    ) -> Iterator[tuple[str, Obj]]:
        """Yield (type, object) from a watch; ERROR events raise the ApiError they carry."""
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_seconds),
            "allowWatchBookmarks": "true" if bookmarks else "false",
        }
        if label_selector:
            query["labelSelector"] = label_selector
        response = self._call("GET", _path(resource, namespace), query=query, stream=True)
        try:
            for line in iter_resp_lines(response):
                if not line:
                    continue
                event = json.loads(line)
                kind, obj = str(event.get("type")), cast(Obj, event.get("object") or {})
                if kind == "ERROR":
                    raise from_response(int(obj.get("code") or 500), json.dumps(obj))
                yield kind, obj
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise Unavailable(0, "Unavailable", f"watch {resource.plural}: {error}") from error
        finally:
            # A watch left early still has unread chunks: the connection cannot be reused.
            response.close()
            response.release_conn()


__all__ = ["JSON_PATCH", "MERGE_PATCH", "ApiError", "Kube", "Obj", "load_configuration"]
