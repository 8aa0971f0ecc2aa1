"""Which objects a list or watch selects: namespace, labelSelector, fieldSelector."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from events.localapi import errors, selectors
from events.localapi.store import Obj


@dataclass(frozen=True)
class Filter:
    namespace: str  # "" for every namespace
    labels: selectors.LabelSelector | None
    fields: Callable[[Mapping[str, Any]], bool] | None

    @property
    def label(self) -> tuple[str, str] | None:
        """A label every selected object carries, if the selector requires one."""
        return None if self.labels is None else self.labels.equality

    def __call__(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        if self.labels is not None and not self.labels(meta.get("labels") or {}):
            return False
        return self.fields is None or self.fields(obj)


def from_query(query: Mapping[str, str], *, namespace: str, kind: str) -> Filter:
    """The filter of a list/watch request; a malformed selector is a 400."""
    try:
        label_text = query.get("labelSelector")
        field_text = query.get("fieldSelector")
        labels = selectors.parse_label_selector(label_text) if label_text else None
        fields = selectors.parse_field_selector(field_text, kind=kind) if field_text else None
    except selectors.SelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    return Filter(namespace, labels, fields)
