"""Task runners: where task calls are placed (threads, processes, Dask, Ray)."""
