"""Public benchmarks: the real pipeline on real, human-labelled data.

Three public sets converted into the export contract live in
``../shared/benchmarks`` (CED Weibo rumours, Ott deceptive hotel reviews,
Weibo21 fake news). This package reads them through the export reader, runs
each set's own protocol with the pipeline's feature builders, LightGBM and
calibration (:mod:`.fitting`, :mod:`.protocols`), computes plain baselines on
the same folds (:mod:`.baselines`), and reports the figures as
``docs/benchmarks.json``, a printed table and MLflow runs (:mod:`.report`).
Settings per set are in ``pipelines/benchmarks.yaml`` (:mod:`.config`).

Entry points: ``fakeugc benchmark [ott|weibo21|ced|all]``,
``benchmarks/public.py`` and :func:`run_benchmarks`.
"""

from fakeugc.benchmarks_public.runner import SETS, BenchmarkRun, run_benchmarks

__all__ = ["SETS", "BenchmarkRun", "run_benchmarks"]
