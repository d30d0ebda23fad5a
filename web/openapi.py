"""The OpenAPI 3 document of /api/v1. Parameter schemas come from the library's own
parameter tables, and a test checks that every route is described and every
described route exists."""

from flask import Blueprint, jsonify

from textlatent import __version__
from textlatent.explore.inference import MAX_INFER_CHARS
from textlatent.explore.topics import TOPN_MAX
from textlatent.explore.maps import METHODS, WHAT
from textlatent.explore.words import MAX_WORD
from textlatent.export import FORMATS, MIMETYPES
from textlatent.ingest.pipeline import MAX_NAME
from textlatent.jobs import KINDS, MODEL_KINDS
from textlatent.store.queries import MAX_ID

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}      # not blank

MAP_CHOICE = {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": [*METHODS, "none"]}], "default": True,
              "description": "the maps made after training: true (the map_method setting), false, or a method"}

bp = Blueprint("openapi", __name__)


def _param_schema(p):
    if p.kind in ("int", "float") and p.choices:
        number = {"type": "integer" if p.kind == "int" else "number", "minimum": p.low, "maximum": p.high}
        return {"oneOf": [number, {"type": "string", "enum": list(p.choices)}], "default": p.default,
                "description": p.help}
    if p.kind == "int":
        return {"type": "integer", "minimum": p.low, "maximum": p.high, "default": p.default,
                "description": p.help}
    if p.kind == "float":
        return {"type": "number", "minimum": p.low, "maximum": p.high, "default": p.default,
                "description": p.help}
    if p.kind == "bool":
        return {"type": "boolean", "default": p.default, "description": p.help}
    if p.kind == "alpha":
        return {"oneOf": [{"type": "number", "minimum": p.low, "maximum": p.high},
                          {"type": "string", "enum": list(p.choices)}], "default": p.default,
                "description": p.help}
    return {"type": "string", "enum": list(p.choices), "default": p.default, "description": p.help}


def _params(spec):
    return {"type": "object", "additionalProperties": False,
            "properties": {p.name: _param_schema(p) for p in spec}}


def _ok(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


ERRORS = {status: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
          for status, text in (("400", "invalid input"), ("404", "not found"), ("409", "conflict"),
                               ("413", "upload too large"), ("415", "unsupported file type"),
                               ("422", "nothing to work on (e.g. an empty corpus)"))}


def _errors(*codes):
    return {c: ERRORS[c] for c in codes}


def _path_param(name, schema=None, description=""):
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"},
            "description": description}


def _query(name, schema, description="", required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


NAME = _path_param("name", {"type": "string", "minLength": 1, "maxLength": MAX_NAME}, "corpus name")
MODEL = _path_param("model_id", ID, "model id")
JOB = _path_param("job_id", ID, "job id")
WORDS = {"type": "array", "items": TEXT | {"maxLength": MAX_WORD}}
ACCEPTED = {"description": "the job was queued", "content": {"application/json": {"schema": _ref("Job")}},
            "headers": {"Location": {"schema": {"type": "string"}, "description": "the job's URL"}}}


def _download(what, description):
    types = dict.fromkeys(MIMETYPES[f].split(";")[0] for f in FORMATS[what])
    return {"get": {"summary": description, "parameters": [MODEL, _query(
        "format", {"type": "string", "enum": list(FORMATS[what]), "default": FORMATS[what][0]})],
        "responses": {"200": {"description": "the file, streamed (its type follows the format)",
                              "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types}},
                      **_errors("400", "404")}}}


def _params_name(kind):
    # LdaParams, Word2VecParams: the names this document has always used
    return {"lda": "Lda", "word2vec": "Word2Vec"}.get(kind, kind.title().replace("_", "")) + "Params"


def spec():
    schemas = {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {}}}}},
        "Job": {"type": "object", "required": ["id", "kind", "status", "progress", "url"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(KINDS)},
            "corpus": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "running", "finished", "failed", "cancelled"]},
            "progress": {"type": "object", "properties": {
                "done": {"type": "integer"}, "total": {"type": "integer"}, "message": {"type": "string"},
                "fraction": {"type": ["number", "null"]}}},
            "params": {"type": "object"}, "error": {"type": ["string", "null"]},
            "model_id": {"type": ["integer", "null"]}, "result": {"type": ["object", "null"]},
            "created": {"type": "string"}, "started": {"type": ["string", "null"]},
            "finished": {"type": ["string", "null"]},
            "elapsed_seconds": {"type": ["number", "null"], "description": "running time so far, or to its end"},
            "url": {"type": "string"}}},
        "Model": {"type": "object", "required": ["id", "kind", "params", "metrics"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(MODEL_KINDS)},
            "params": {"type": "object"}, "seed": {"type": ["integer", "null"]},
            "fingerprint": {"type": "string"}, "versions": {"type": "object"},
            "train_seconds": {"type": "number"}, "metrics": {"type": "object"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "created": {"type": "string"}, "url": {"type": "string"}, "corpus": {"type": "string"}}},
        "CorpusSummary": {"type": "object", "properties": {
            "name": {"type": "string"}, "documents": {"type": "integer"}, "tokens": {"type": "integer"},
            "vocabulary": {"type": "integer"}, "url": {"type": "string"}}},
    }
    schemas.update({_params_name(k): _params(KINDS[k].params) for k in MODEL_KINDS})
    schemas.update(MapParams=_params(KINDS["map"].params), Map=MAP_SCHEMA)
    paths = {
        "/corpora": {
            "get": {"summary": "List the corpora", "responses": {
                "200": _ok({"type": "array", "items": _ref("CorpusSummary")})}},
            "post": {"summary": "Upload files into a corpus (created when new); queues the ingest",
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["name", "file"], "properties": {
                             "name": TEXT | {"maxLength": MAX_NAME},
                             "file": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                                      "description": ".txt .md .csv .tsv .jsonl .ndjson .zip, or .gz of them"},
                             "text_field": {"type": "string", "default": "text"},
                             "id_field": {"type": "string"}, "title_field": {"type": "string"},
                             "label_field": {"type": "string"}, "date_field": {"type": "string"},
                             "split": {"type": "string", "enum": ["none", "paragraphs"]},
                             "first_line_title": {"type": "string", "enum": ["yes", "no"],
                                                  "description": "title text files by their first "
                                                                 "line (default: yes in a folder or zip)"}}}}}},
                     "responses": {"202": ACCEPTED, **_errors("400", "413", "415", "422")}}},
        "/corpora/{name}": {
            "get": {"summary": "A corpus: counts, frequent terms, sample documents, models, jobs",
                    "parameters": [NAME], "responses": {"200": _ok({"type": "object"}), **_errors("404")}},
            "delete": {"summary": "Delete a corpus with its documents and models", "parameters": [NAME],
                       "responses": {"204": {"description": "deleted"}, **_errors("404", "409")}}},
        "/corpora/{name}/sweeps": {
            "get": {"summary": "The corpus's K sweeps (LDA trained with several num_topics at once): "
                               "figures per K, the recommended K and the rule", "parameters": [NAME],
                    "responses": {"200": _ok({"type": "array"}), **_errors("404")}}},
        "/corpora/{name}/documents": {
            "get": {"summary": "The corpus's documents, paged: full-text search, filters, sorting "
                               '-> {"documents": [{position, doc_id, title, label, date, snippet, highlights}], '
                               '"total", "total_exact"} (total_exact false: on PostgreSQL, the estimate of a search\'s '
                               'many matches)', "parameters": [
                NAME, _query("q", {"type": "string", "maxLength": 1000}, "documents holding every word"),
                _query("label", {"type": "string"}), _query("topic", {"type": "integer"}, "dominant topic"),
                _query("date_from", {"type": "string"}, "ISO 8601, inclusive"),
                _query("date_to", {"type": "string"}, "ISO 8601, inclusive of the whole period"),
                _query("sort", {"type": "string"}, "position, date, -date or share:K"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
                _query("offset", {"type": "integer", "minimum": 0, "default": 0}),
                _query("model", {"type": "integer"}, "LDA model for topic and share:K (default: the newest)")],
                "responses": {"200": _ok({"type": "object"}), "202": ACCEPTED, **_errors("400", "404")}}},
        "/corpora/{name}/documents/{position}/similar": {
            "get": {"summary": 'The nearest documents -> {"by", "model_id", "documents": [{position, doc_id, title, '
                               'label, date, distance}]}', "parameters": [
                NAME, _path_param("position", {"type": "integer"}),
                _query("by", {"type": "string", "enum": ["topics", "vectors"], "default": "topics"},
                       "topics: Hellinger distance of topic mixtures; vectors: cosine distance of document vectors"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
                _query("model", {"type": "integer"})],
                "responses": {"200": _ok({"type": "object"}), "202": ACCEPTED, **_errors("400", "404")}}},
        "/corpora/{name}/kwic": {
            "get": {"summary": 'Words in context -> {"term", "lines": [{position, doc_id, left, match, right}], '
                               '"total", "documents"}', "parameters": [
                NAME, _query("word", TEXT | {"maxLength": 200}, "a word or phrase", True),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}),
                _query("offset", {"type": "integer", "minimum": 0, "default": 0})],
                "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
        "/models/{model_id}/similar-documents": {
            "post": {"summary": "The documents nearest a new text's topic mixture", "parameters": [MODEL],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["text"], "properties": {
                             "text": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 100}}}}}},
                     "responses": {"200": _ok({"type": "object"}), "202": ACCEPTED, **_errors("400", "404", "422")}}},
        "/corpora/{name}/documents/{position}": {
            "get": {"summary": "One document, whole, with its topic mixture", "parameters": [
                NAME, _path_param("position", ID | {"minimum": 0}, "0-based position in the corpus"),
                _query("model", ID, "LDA model (default: the newest)")],
                "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
        "/corpora/{name}/models": {
            "get": {"summary": "The corpus's models, newest first", "parameters": [NAME],
                    "responses": {"200": _ok({"type": "array", "items": _ref("Model")}), **_errors("404")}},
            "post": {"summary": "Train a model; queues a job", "parameters": [NAME],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                         {"type": "object", "required": ["kind"], "properties": {
                             "kind": {"const": k}, "params": _ref(_params_name(k)), "map": MAP_CHOICE}}
                         for k in MODEL_KINDS]}}}},
                     "responses": {"202": ACCEPTED, **_errors("400", "404", "422")}}},
        "/corpora/{name}/jobs": {
            "get": {"summary": "The corpus's jobs, newest first (with shards=true, its tokenize jobs too)",
                    "parameters": [NAME, _query("shards", {"type": "boolean", "default": False})],
                    "responses": {"200": _ok({"type": "array", "items": _ref("Job")}), **_errors("400", "404")}}},
        "/corpora/{name}/similar": {
            "get": {"summary": "Nearest words by cosine similarity; with several words or negative "
                               "words, an analogy", "parameters": [
                NAME, _query("word", WORDS | {"minItems": 1}, "positive word(s)", True),
                _query("negative", WORDS, "negative word(s)"),
                _query("topn", {"type": "integer", "minimum": 1, "maximum": TOPN_MAX, "default": 10}),
                _query("model", ID, "a Word2Vec model id (default: the newest)")],
                "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
        "/corpora/{name}/tokenize": {
            method: {"summary": "The terms the corpus's frozen pipeline (tokenizer settings, phrases) "
                                "makes of a text", "parameters": [NAME] + (
                [_query("text", TEXT | {"maxLength": MAX_INFER_CHARS}, "the text", True)] if method == "get" else []),
                     **({} if method == "get" else {"requestBody": {"required": True, "content": {
                         "application/json": {"schema": {"type": "object", "required": ["text"],
                                                         "properties": {"text": TEXT | {"maxLength": MAX_INFER_CHARS}}}}}}}),
                     "responses": {"200": _ok({"type": "object", "properties": {"tokens": {
                         "type": "array", "items": {"type": "string"}}}}), **_errors("400", "404", "413")}}
            for method in ("get", "post")},
        "/jobs": {
            "get": {"summary": "Recent jobs (with shards=true, the tokenize jobs of sharded ingests too)",
                    "parameters": [_query("corpus", {"type": "string"}),
                                   _query("shards", {"type": "boolean", "default": False})],
                    "responses": {"200": _ok({"type": "array", "items": _ref("Job")}), **_errors("400")}}},
        "/jobs/{job_id}": {
            "get": {"summary": "A job with its progress", "parameters": [JOB],
                    "responses": {"200": _ok(_ref("Job")), **_errors("404")}}},
        "/jobs/{job_id}/cancel": {
            "post": {"summary": "Cancel a pending or running job", "parameters": [JOB],
                     "responses": {"200": _ok(_ref("Job")), **_errors("404", "409")}}},
        "/jobs/{job_id}/retry": {
            "post": {"summary": "Queue a failed or cancelled job again", "parameters": [JOB],
                     "responses": {"202": ACCEPTED, **_errors("404", "409")}}},
        "/models/{model_id}": {
            "get": {"summary": "A model: parameters, quality figures, labels", "parameters": [MODEL],
                    "responses": {"200": _ok(_ref("Model")), **_errors("404")}}},
        "/models/{model_id}/labels": {
            "put": {"summary": "Name topics; an empty label removes one", "parameters": [MODEL],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"labels": {
                            "type": "object", "propertyNames": {"pattern": "^(0|[1-9][0-9]{0,2})$"},
                            "additionalProperties": {"type": ["string", "null"], "maxLength": 200}}}}}}},
                    "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
        "/models/{model_id}/topics": {
            "get": {"summary": "Topics with their top terms", "parameters": [
                MODEL, _query("topn", {"type": "integer", "minimum": 1, "maximum": TOPN_MAX, "default": 10})],
                "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
        "/models/{model_id}/topics/{topic}/documents": {
            "get": {"summary": "The documents where a topic weighs most", "parameters": [
                MODEL, _path_param("topic", {"type": "integer", "minimum": 0, "maximum": 999},
                                   "a topic number, 0..num_topics - 1"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": TOPN_MAX, "default": 10})],
                "responses": {"200": _ok({"type": "array"}), **_errors("400", "404")}}},
        "/models/{model_id}/ldavis.json": {
            "get": {"summary": "pyLDAvis's prepared data, stored at training time", "parameters": [MODEL],
                    "responses": {"200": _ok({"type": "object"}), **_errors("404")}}},
        "/models/{model_id}/infer": {
            "post": {"summary": "Topic mixture of a new text", "parameters": [MODEL],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["text"], "properties": {
                             "text": TEXT | {"maxLength": MAX_INFER_CHARS}}}}}},
                     "responses": {"200": _ok({"type": "object"}), **_errors("400", "404", "413", "422")}}},
        "/models/{model_id}/topics-by-label": {
            "get": {"summary": "Mean topic shares and dominant-topic counts per document label (JSON), "
                               "or with format the export: label, topic, share, documents",
                    "parameters": [MODEL, _query("format", {"type": "string", "enum": list(FORMATS["topics-by-label"])})],
                    "responses": {"200": _ok({"type": "object"}), "202": ACCEPTED, **_errors("400", "404")}}},
        "/models/{model_id}/topics-over-time": {
            "get": {"summary": "Mean topic shares and document counts per period (JSON), or with format "
                               "the export: period, topic, share, documents",
                    "parameters": [MODEL, _query("period", {"type": "string", "enum": ["year", "month", "week", "day"]},
                                                 "default: chosen from the dates' span (about 10-60 periods)"),
                                   _query("format", {"type": "string", "enum": list(FORMATS["topics-over-time"])})],
                    "responses": {"200": _ok({"type": "object"}), "202": ACCEPTED, **_errors("400", "404")}}},
        "/models/{model_id}/doc-topics": _download("doc-topics", "Document-topic vectors"),
        "/models/{model_id}/topic-terms": _download("topic-terms", "Topic-term weights"),
        "/models/{model_id}/vectors": _download("vectors", "Word vectors"),
        "/models/{model_id}/word-map": _download("word-map", "Word map coordinates: word, x, y, frequency, topic"),
        "/models/{model_id}/doc-map": _download("doc-map", "Document map coordinates: doc_id, title, label, "
                                                           "date, x, y, topic"),
        **map_paths(),
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _ok({"type": "object"})}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "textlatent", "version": __version__,
                     "description": "Topics and word vectors of your corpora. Errors are "
                                    '{"error": {"code", "message"}} with a 4xx status.'},
            "servers": [{"url": "/api/v1"}], "paths": paths, "components": {"schemas": schemas}}


WHAT_PARAM = _path_param("what", {"type": "string", "enum": list(WHAT)}, "words or documents")
METHOD_QUERY = _query("method", {"type": "string", "enum": list(METHODS)}, "default: the newest map made")
MAP_SCHEMA = {"type": "object", "required": ["what", "method", "n", "faithfulness"], "properties": {
    "what": {"type": "string", "enum": list(WHAT)},
    "by": {"type": "string", "enum": ["words", "topics", "vectors"]},
    "model_id": {"type": "integer"}, "method": {"type": "string", "enum": list(METHODS)},
    "params": {"type": "object"}, "seed": {"type": "integer"}, "n": {"type": "integer"},
    "seconds": {"type": "number"}, "created": {"type": "string"},
    "faithfulness": {"type": "object", "description": "neighbours_kept: mean share of each point's k nearest "
                     "neighbours that stay among its k nearest on the map (all points); trustworthiness: "
                     "scikit-learn's, 0..1, on a sample", "properties": {
                         "k": {"type": "integer"}, "neighbours_kept": {"type": ["number", "null"]},
                         "trustworthiness": {"type": ["number", "null"]},
                         "trustworthiness_sample": {"type": "integer"}}}}}


def map_paths():
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    words = {"type": "array", "items": {"type": "string"}}
    return {
        "/models/{model_id}/maps": {
            "get": {"summary": "The model's maps with their method, parameters, seconds and faithfulness",
                    "parameters": [MODEL],
                    "responses": {"200": _ok({"type": "array", "items": _ref("Map")}), **_errors("404")}},
            "post": {"summary": "Make a map of the model's words or documents; queues a job", "parameters": [MODEL],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["what"], "properties": {
                             "what": {"type": "string", "enum": list(WHAT)}, "params": _ref("MapParams")}}}}},
                     "responses": {"202": ACCEPTED, **_errors("400", "404")}}},
        "/models/{model_id}/maps/{what}/points": {
            "get": {"summary": "A map's points, binary: magic TLMAP1, a uint32 header length, a JSON header "
                               "listing the arrays that follow (xy float32, topic uint16, freq uint8, ...); "
                               "the words or titles come from .../texts", "parameters": [MODEL, WHAT_PARAM, METHOD_QUERY],
                    "responses": {"200": {"description": "the points", "content": binary},
                                  **_errors("400", "404")}}},
        "/models/{model_id}/maps/{what}/texts": {
            "get": {"summary": "A map's words or document titles, UTF-8, one line a point in point order",
                    "parameters": [MODEL, WHAT_PARAM, METHOD_QUERY],
                    "responses": {"200": {"description": "one line a point", "content": {
                        "text/plain": {"schema": {"type": "string"}}}}, **_errors("400", "404")}}},
        "/corpora/{name}/axis": {
            "get": {"summary": "Words ranked along a semantic axis: each word's cosine with the direction from "
                               "the from pole's centre to the to pole's", "parameters": [
                NAME, _query("from", words, "the words of the starting pole (repeat, or separate by commas)", True),
                _query("to", words, "the words of the other pole", True),
                _query("topn", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                       "words listed at each end"),
                _query("model", {"type": "integer"}, "a Word2Vec model id (default: the newest)"),
                _query("format", {"type": "string", "enum": ["json", "float32"], "default": "json"},
                       "float32: every word's score, binary, in the model's word order")],
                "responses": {"200": {"description": "the words from the to end to the from end", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "model_id": {"type": "integer"}, "from": words, "to": words,
                        "words": {"type": "array", "items": {"type": "object", "properties": {
                            "word": {"type": "string"}, "score": {"type": "number"}}}}}}},
                    **binary}}, **_errors("400", "404")}}},
        "/corpora/{name}/interpolate": {
            "get": {"summary": "Walk from word A to word B (spherical interpolation of their unit vectors), or "
                               "between two documents' topic mixtures, with the nearest words or documents at "
                               "each step", "parameters": [
                NAME, _query("from", {"type": "string"}, "word A, or a document position", True),
                _query("to", {"type": "string"}, "word B, or a document position", True),
                _query("steps", {"type": "integer", "minimum": 2, "maximum": 100, "default": 7}),
                _query("topn", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5}),
                _query("of", {"type": "string", "enum": ["words", "documents"], "default": "words"}),
                _query("model", {"type": "integer"}, "a Word2Vec (or, of documents, LDA) model id")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "model_id": {"type": "integer"}, "steps": {"type": "array", "items": {
                        "type": "object", "properties": {"t": {"type": "number"},
                                                         "words": {"type": "array"},
                                                         "documents": {"type": "array"}}}}}}),
                    **_errors("400", "404")}}},
        "/models/{model_id}/maps/{what}/points/{index}": {
            "get": {"summary": "One point of a map: its word or document, topics and nearest neighbours",
                    "parameters": [MODEL, WHAT_PARAM, _path_param("index", {"type": "integer"}, "point number"),
                                   _query("topn", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
                                   METHOD_QUERY],
                    "responses": {"200": _ok({"type": "object"}), **_errors("400", "404")}}},
    }


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(spec())
