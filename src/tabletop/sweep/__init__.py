"""Sweeps: one scenario or reliability fleet run many times over a grid of parameter values and
seeds, locally on every core or on a Dask cluster, with rows, a summary with confidence
intervals, plots and an HTML report.

- ``spec``: the sweep file (``kind: Sweep``) and its seeds;
- ``paths``: parameter paths into the scenario or fleet document (``levels[0]``, ``[name=x]``);
- ``plan``: every grid point's document checked up front, and the runs still to do;
- ``metrics``: what one run reports, as flat columns;
- ``run``: one run, a pure function of (target, parameter values, seed);
- ``execute``: the runs on a process pool or a Dask scheduler, with a progress bar;
- ``store``: ``runs.jsonl`` (resumable), ``sweep.json``, Parquet and CSV;
- ``summary``: n, mean, standard deviation and 95% confidence intervals (``tabletop.stats``);
- ``plots`` and ``report``: PNGs (matplotlib) and a self-contained ``report.html``;
- ``sweep``: all of it for ``tabletop sweep``.
"""
