"""``prefect.testing``: helpers for testing flows (see :mod:`flowc.testing.utilities`)."""
