"""A stand-in for Elasticsearch 8, which cannot run on this machine.

It is a small in-memory HTTP server that checks the requests the search service sends
against the documented REST API (index creation with mappings and aliases, `_bulk` as
NDJSON with action/source line pairs, `_search` with a query, `_aliases` actions,
`_alias` lookups, index deletion), answers in the documented shapes with the
`X-Elastic-Product: Elasticsearch` header the official client requires, and records every
request so tests can assert on them. Matching is deliberately simple (a document matches
when every query word occurs in one of the searched fields); ranking is not what is under
test. `down()` makes it answer 503, like a red cluster.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from flask import Flask, Response, request
from werkzeug.serving import make_server

from tests.integration.services.servers import free_port


@dataclass
class FakeElasticsearch:
    indices: dict[str, dict] = field(default_factory=dict)   # name -> {"docs": {}, "body": {}}
    aliases: dict[str, str] = field(default_factory=dict)    # alias -> index
    requests: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)        # requests that broke the API
    is_down: bool = False

    def start(self) -> FakeElasticsearch:
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self._app(), threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()

    def down(self) -> None:
        self.is_down = True

    def up(self) -> None:
        self.is_down = False

    def resolve(self, name: str) -> str | None:
        return self.aliases.get(name, name if name in self.indices else None)

    def _app(self) -> Flask:
        app = Flask("fake-elasticsearch")
        fake = self

        def answer(body, status=200):
            return Response(json.dumps(body), status, headers={
                "X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"})

        def problem(text: str):
            fake.problems.append(text)
            return answer({"error": {"type": "illegal_argument_exception", "reason": text}}, 400)

        @app.before_request
        def record():
            fake.requests.append((request.method, request.path))
            if fake.is_down:
                return answer({"error": "cluster unavailable", "status": 503}, 503)
            return None

        @app.get("/_cluster/health")
        def health():
            return answer({"status": "green", "number_of_nodes": 3})

        @app.route("/_alias/<name>", methods=["GET", "HEAD"])
        def get_alias(name):
            index = fake.aliases.get(name)
            if index is None:
                return answer({"error": f"alias [{name}] missing", "status": 404}, 404)
            return answer({index: {"aliases": {name: {}}}})

        @app.put("/<index>")
        def create_index(index):
            body = request.get_json(force=True)
            if index in fake.indices:
                return answer({"error": {"type": "resource_already_exists_exception"}}, 400)
            if body.get("mappings", {}).get("dynamic") != "strict" or \
                    "properties" not in body.get("mappings", {}):
                return problem("product indices must have strict explicit mappings")
            fake.indices[index] = {"docs": {}, "body": body}
            for alias in body.get("aliases", {}):
                fake.aliases[alias] = index
            return answer({"acknowledged": True, "shards_acknowledged": True, "index": index})

        @app.delete("/<index>")
        def delete_index(index):
            if fake.indices.pop(index, None) is None:
                return answer({"error": "no such index", "status": 404}, 404)
            return answer({"acknowledged": True})

        @app.post("/_aliases")
        def update_aliases():
            actions = request.get_json(force=True).get("actions", [])
            for action in actions:
                (verb, spec), = action.items()
                if verb not in ("add", "remove") or spec.get("index") not in fake.indices:
                    return problem(f"bad alias action {action}")
            for action in actions:  # applied together, as Elasticsearch does
                (verb, spec), = action.items()
                if verb == "remove":
                    fake.aliases.pop(spec["alias"], None)
                else:
                    fake.aliases[spec["alias"]] = spec["index"]
            return answer({"acknowledged": True})

        @app.route("/_bulk", methods=["POST", "PUT"])
        def bulk():
            if "x-ndjson" not in request.headers.get("Content-Type", ""):
                return problem("_bulk needs an NDJSON content type")
            lines = [json.loads(line) for line in request.get_data(as_text=True).splitlines()
                     if line.strip()]
            items, i = [], 0
            while i < len(lines):
                (verb, meta), = lines[i].items()
                index = fake.resolve(meta["_index"])
                if verb == "index":
                    source, i = lines[i + 1], i + 2
                    if index is None:
                        items.append({verb: {"_id": meta["_id"], "status": 404}})
                        continue
                    unknown = set(source) - set(fake.indices[index]["body"]["mappings"]["properties"])
                    if unknown:
                        items.append({verb: {"_id": meta["_id"], "status": 400, "error": {
                            "type": "strict_dynamic_mapping_exception"}}})
                        continue
                    fake.indices[index]["docs"][meta["_id"]] = source
                    items.append({verb: {"_id": meta["_id"], "status": 201}})
                elif verb == "delete":
                    i += 1
                    found = index and fake.indices[index]["docs"].pop(meta["_id"], None)
                    items.append({verb: {"_id": meta["_id"], "status": 200 if found else 404}})
                else:
                    return problem(f"unexpected bulk action {verb}")
            errors = any(item[next(iter(item))]["status"] >= 300 for item in items)
            return answer({"took": 1, "errors": errors, "items": items})

        @app.post("/<name>/_search")
        def search(name):
            body = request.get_json(force=True)
            index = fake.resolve(name)
            if index is None:
                return answer({"error": {"type": "index_not_found_exception"}, "status": 404},
                              404)
            must = body["query"]["bool"]["must"][0]["multi_match"]
            words = must["query"].lower().split()
            fields = [f.split("^")[0] for f in must["fields"]]
            wanted = {f["term"]["category"] for f in body["query"]["bool"].get("filter", [])}
            includes = request.args.get("_source_includes")
            hits = [{"_id": doc_id, "_score": 1.0, "_source": {
                k: v for k, v in doc.items() if not includes or k in includes.split(",")}}
                for doc_id, doc in sorted(fake.indices[index]["docs"].items())
                if all(any(w in str(doc.get(f, "")).lower() for f in fields) for w in words)
                and (not wanted or doc.get("category") in wanted)]
            return answer({"took": 1, "hits": {"total": {"value": len(hits)},
                                               "hits": hits[:body.get("size", 10)]}})

        return app
