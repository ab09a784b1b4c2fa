"""``schedkit sweep``: a grid of replays (configurations x traces x seeds), run on a local process pool
or a Dask cluster, resumable, gathered into one tidy table per run and one long table of curves."""
