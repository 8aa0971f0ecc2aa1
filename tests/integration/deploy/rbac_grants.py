"""What infra/rbac grants each function's ServiceAccount, as kustomize renders it."""

from __future__ import annotations

from tests.integration.deploy.manifests import Obj, render

Grant = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def grants(role: Obj) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def granted_by_service_account() -> dict[str, set[Grant]]:
    """ServiceAccount name -> what its bound ClusterRoles grant."""
    objects = render("rbac")
    by_name = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ClusterRole"}
    granted: dict[str, set[Grant]] = {}
    for binding in (o for o in objects if o["kind"] == "ClusterRoleBinding"):
        for subject in binding["subjects"]:
            role = by_name[binding["roleRef"]["name"]]
            granted.setdefault(subject["name"], set()).update(grants(role))
    return granted
