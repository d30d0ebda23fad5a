"""schemathesis against /api/v1/openapi.json: generated requests (schema-valid and not),
a fixed seed and a bounded number of examples per operation. No answer may be a 5xx, a
schema-valid request may only be refused where the schema cannot say why, and every
answer has a documented content type and shape."""

import os
import shutil

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from textlatent.settings import load_settings
from web import create_app

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 12
# Refusals of schema-valid requests that depend on stored data or on file contents,
# which a schema cannot express: status codes allowed per operation.
CONTENT_DEPENDENT = {
    "POST /corpora": {400, 413, 415, 422},                  # the files' contents: binary, no text column...
    "PUT /models/{model_id}/labels": {400},                 # a topic number past the model's num_topics
    "GET /models/{model_id}/topics/{topic}/documents": {400},
    "POST /models/{model_id}/infer": {422},                 # none of the text's words in the vocabulary
    "POST /corpora/{name}/models": {400, 422},              # num_topics past the documents, an empty corpus
    "GET /corpora/{name}/kwic": {400},                      # a word the corpus's pipeline drops (a stop word)
    "GET /models/{model_id}/doc-topics": {400},             # a Word2Vec model has no topics...
    "GET /models/{model_id}/topic-terms": {400},
    "GET /models/{model_id}/vectors": {400},
}
# Schema-violating requests that are answered anyway (a lenient reading is not a fault here).
TOLERATED = {"ST201"}


@pytest.fixture
def api(trained, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(trained["config"].home, home)
    return create_app(load_settings(home=str(home), database_url="sqlite:///" + os.path.join(home, "textlatent.db")))


def _problems(schema, operation, mode, path_parameters):
    found = []

    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        try:
            case.call_and_validate()
        except BaseException as e:          # schemathesis's FailureGroup is a BaseExceptionGroup
            for failure in getattr(e, "exceptions", [e]):
                code = getattr(failure, "code", type(failure).__name__)
                status = getattr(failure, "status_code", None)
                if code in TOLERATED or (code == "ST202" and status in CONTENT_DEPENDENT.get(operation.label, ())):
                    continue
                found.append(f"{operation.label} ({mode.value}): {code} {getattr(failure, 'title', failure)}: "
                             f"{str(getattr(failure, 'message', ''))[:200]}")
    try:
        run()
    except Exception as e:                  # e.g. no schema-violating value exists for an operation
        if type(e).__name__ != "Unsatisfiable":
            raise
    return found


@pytest.mark.slow
def test_generated_requests_get_no_5xx_and_documented_answers(api, trained):
    from schemathesis import GenerationMode
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api)
    problems = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        variants = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        real = {k: v for k, v in (("name", "news"),
                                  ("model_id", trained["w2v" if "vectors" in operation.path else "lda"]))
                if k in names}
        if real:                            # random ids find nothing: also reach stored corpora and models
            variants.append((GenerationMode.POSITIVE, real))
        for mode, path_parameters in variants:
            problems += _problems(schema, operation, mode, path_parameters)
    assert not problems, "\n".join(sorted(set(problems)))
