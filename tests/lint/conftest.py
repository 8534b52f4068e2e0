from __future__ import annotations

import pytest


@pytest.fixture
def cli():
    import typer
    from typer.testing import CliRunner

    from flowc.lint.cli import register

    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """flowc"""

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke
