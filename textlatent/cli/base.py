"""What every command shares: the ``textlatent`` group, the store it opens, output and progress."""

import json
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from .. import __version__
from ..errors import TextlatentError
from ..settings import load_settings
from ..store import Store


class _Group(click.Group):
    """Turns library and file-system errors into clean messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TextlatentError as e:
            field = e.details.get("field")       # the option the message names, by its API name
            raise click.ClickException(e.message.replace(f"({field})", f"(--{field.replace('_', '-')})")
                                       if field else e.message) from e
        except OSError as e:
            raise click.ClickException(f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from e
        except SQLAlchemyError as e:
            raise click.ClickException(f"the database refused: {str(getattr(e, 'orig', e))[:300]}") from e
        except KeyboardInterrupt:
            raise click.Abort()


def config_of(ctx):
    """The settings of this invocation (``--home`` and ``TEXTLATENT_*``)."""
    return ctx.find_root().obj


def store_of(ctx):
    """The store of this invocation, opened on first use (``settings`` and ``--help`` open none)."""
    root = ctx.find_root()
    if "store" not in root.meta:
        root.meta["store"] = Store(root.obj)
    return root.meta["store"]


def emit(data, as_json, text_fn):
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text_fn(data)


class Bar:
    """A tqdm bar fed by the library's ``progress(done, total, message)`` calls; when standard
    error is not a terminal (a log file, a pipe), a log line at least every 10 s instead."""

    def __init__(self, quiet, unit="docs", name="textlatent"):
        self.quiet, self.unit, self.name, self.bar, self.lines = quiet, unit, name, None, None

    def __call__(self, done, total, message):
        if self.quiet:
            return
        if self.lines is None and self.bar is None and not sys.stderr.isatty():
            from ..progress import ProgressLog
            self.lines = ProgressLog(self.name).start()
        if self.lines is not None:
            self.lines(done, total, message)
            return
        from tqdm import tqdm
        if self.bar is None:
            self.bar = tqdm(total=total or None, unit=self.unit, file=sys.stderr, dynamic_ncols=True, disable=None,
                            leave=False)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.set_description(message[:60], refresh=False)
        self.bar.refresh()

    def close(self):
        if self.lines is not None:
            self.lines.stop()
            self.lines = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.group(cls=_Group)
@click.version_option(__version__)
@click.option("--home", type=click.Path(file_okay=False), default=None,
              help="Data directory (default: $TEXTLATENT_HOME or ~/.local/share/textlatent).")
@click.pass_context
def cli(ctx, home):
    """Topic models and word vectors for a corpus of text.

    \b
    Example:
        textlatent ingest corpora/sample --corpus speeches --split paragraphs
        textlatent train lda speeches --num-topics 12
        textlatent topics speeches
    """
    ctx.obj = load_settings(home=home)
