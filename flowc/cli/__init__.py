"""The ``flowc`` command line: every command, its arguments, what it shows and what it writes.

The runtime (:mod:`flowc.runtime`) and the compiler (:mod:`flowc.compiler`) keep no CLI code:
they take parsed arguments and return typed results or raise errors whose message is the line
to print. Here: the typer app and ``main()`` (:mod:`~flowc.cli.app`), one module per command
(``run``, ``graph`` with ``compile``, ``explain``, ``diff``), the arguments they share
(:mod:`~flowc.cli.targets`, :mod:`~flowc.cli.options`, :mod:`~flowc.cli.run_args`), what a
run shows (:mod:`~flowc.cli.display`, :mod:`~flowc.cli.progress`), what it leaves behind
(:mod:`~flowc.cli.reports`) and how output and failures are said (:mod:`~flowc.cli.output`).

``flowc.cli:main`` is the console script (and ``python -m flowc``). ``import flowc`` never
imports this package: typer and rich load only for the command line.
"""

from flowc.cli.app import app, main

__all__ = ["app", "main"]
