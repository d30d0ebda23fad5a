"""The library's errors: one base class, a few specific ones.

Every error carries a short machine-readable ``code`` and a message meant for a
person; the CLI prints the message, the web layer maps ``status`` to HTTP.
"""


class TextlatentError(Exception):
    """Base of every error textlatent raises on purpose."""

    code = "error"
    status = 400

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self):
        out = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class InvalidInput(TextlatentError, ValueError):
    """A parameter or option has a value that is not allowed."""

    code = "invalid_input"


class NotFound(TextlatentError, LookupError):
    code = "not_found"
    status = 404


class CorpusNotFound(NotFound):
    code = "corpus_not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class MapNotFound(NotFound):
    """A model has no map of that kind yet; the message says how to make one."""

    code = "map_not_found"


class JobNotFound(NotFound):
    code = "job_not_found"


class ViewUnavailable(NotFound):
    """A model's stored view (e.g. pyLDAvis's data) could not be computed; the model is kept."""

    code = "view_unavailable"


class WordNotFound(NotFound):
    """A query word is not in the model's vocabulary; ``suggestions`` lists close ones."""

    code = "word_not_found"


class IngestError(TextlatentError):
    """A source could not be read; the message names the file and, where known, the line."""

    code = "ingest_error"


class UnsupportedSource(IngestError):
    code = "unsupported_source"
    status = 415


class EmptyCorpus(TextlatentError):
    """Nothing to train on: no documents, or no tokens left after filtering."""

    code = "empty_corpus"
    status = 422


class TooLarge(TextlatentError):
    """An input past a size limit that keeps one request's work bounded."""

    code = "too_large"
    status = 413


class Conflict(TextlatentError):
    code = "conflict"
    status = 409


class Cancelled(TextlatentError):
    """Raised inside a job when its cancellation was requested."""

    code = "cancelled"
    status = 409


class StorageError(TextlatentError):
    """The shared storage did not answer, lacks a file it should hold, or holds one that
    fails its checksum."""

    code = "storage_unavailable"
    status = 503
