"""The runtime half of flowc: runs flows and tasks with futures and states.

It never imports libcst or the compiler; a Dask or Ray worker needs only this half.
"""
