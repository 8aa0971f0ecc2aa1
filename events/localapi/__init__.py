"""The embedded Kubernetes API server real kubectl and the kubernetes client talk to.

Public surface: `server.LocalAPI` (start/stop/serve_until, url, token,
write_kubeconfig, requests) and `requestlog.RequestLog`/`RequestRecord`;
`crds.default_crd_dir()`.

Inside, one asyncio loop owns everything, so nothing needs a lock:

- routes      URL layout, query parameters, content negotiation (JSON, Table,
              protobuf request bodies), auth, the request log
- verbs       create/update/patch/apply/delete semantics: metadata, optimistic
              concurrency, status subresource, finalizers, validation
- builtins    per-kind strategies of the built-in kinds (Secret, Namespace, ...)
- collector   garbage collector and namespace controller
- watch       watch streams; filters: label/field selection
- store       objects, the resourceVersion counter, watch history
- apply       server-side apply (field ownership in managedFields)
- tables, jsonpath   server-side printing for `kubectl get`
- discovery, openapi_docs   what kubectl discovers before it acts
- openapi, patching, selectors   schema engine, patch formats, selector parsing
- journal, persistence   writes journalled and fsynced before they are answered,
              compacted into the state file; start-up replays both
- resources, crds, validation, errors, protobuf, tls   the rest
"""
