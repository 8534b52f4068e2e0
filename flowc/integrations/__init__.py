"""Stand-ins for Prefect's integration packages (``prefect_dask``, ``prefect_ray``).

Under ``flowc run`` a flow file importing ``prefect_dask`` or ``prefect_ray`` gets these
packages, which offer flowc's runners and the helpers documented flows use with them.
Nothing here imports Dask or Ray until a runner or helper is used.
"""
