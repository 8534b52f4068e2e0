"""``python -m flowc``: the same command as the ``flowc`` console script."""

from flowc.cli import main

if __name__ == "__main__":
    main()
