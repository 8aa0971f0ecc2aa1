"""Reading a Bundle's sources from the trust namespace."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

from shared.kube.errors import NotFound
from shared.kube.objects import name_of
from shared.kube.resources import CONFIGMAPS, SECRETS, Resource
from shared.runtime import Context

# trust-manager's message when it was started without a default CA package; certainly
# ships none, so `useDefaultCAs: true` is a source that cannot be found.
NO_DEFAULT_CAS: Final = (
    "no default package was specified when trust-manager was started; default CAs not available"
)


class SourceNotFound(LookupError):
    """A source object or key does not exist (trust-manager's SourceNotFound)."""


def label_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A metav1.LabelSelector as `?labelSelector=` text; None selects everything."""
    if not selector:
        return None
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[operator]
        )
    return ",".join(terms) or None


def read_sources(ctx: Context, sources: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(description, text) of every source, in order; SourceNotFound if one is missing."""
    namespace = ctx.config.trust_namespace
    texts: list[tuple[str, str]] = []
    for source in sources:
        if "inLine" in source:
            texts.append(("inLine source", str(source["inLine"])))
        elif source.get("useDefaultCAs"):
            raise SourceNotFound(NO_DEFAULT_CAS)
        elif "configMap" in source:
            texts.extend(_read(ctx, CONFIGMAPS, namespace, source["configMap"]))
        elif "secret" in source:
            texts.extend(_read(ctx, SECRETS, namespace, source["secret"]))
    return texts


def _read(
    ctx: Context, resource: Resource, namespace: str, ref: Mapping[str, Any]
) -> list[tuple[str, str]]:
    kind = resource.kind
    if ref.get("name"):
        try:
            objects = [ctx.kube.get(resource, namespace, str(ref["name"]))]
        except NotFound:
            raise SourceNotFound(f'{resource.plural} "{ref["name"]}" not found') from None
    else:
        objects, _ = ctx.kube.list(
            resource, namespace, label_selector=label_selector(ref.get("selector"))
        )
    texts: list[tuple[str, str]] = []
    for obj in sorted(objects, key=name_of):
        data = _data(resource, obj)
        where = f"{kind} {namespace}/{name_of(obj)}"
        if ref.get("includeAllKeys"):
            texts.extend((f'{where} at key "{k}"', v) for k, v in sorted(data.items()))
            continue
        key = str(ref.get("key") or "")
        if key not in data:
            raise SourceNotFound(f'no data found in {where} at key "{key}"')
        texts.append((f'{where} at key "{key}"', data[key]))
    return texts


def _data(resource: Resource, obj: Mapping[str, Any]) -> dict[str, str]:
    if resource is SECRETS:
        return {
            k: base64.b64decode(v).decode("utf-8", "replace")
            for k, v in (obj.get("data") or {}).items()
        }
    return {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
