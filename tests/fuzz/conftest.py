"""Hypothesis profiles of the fuzz suite, chosen with ``SKSPECTRA_FUZZ_PROFILE``.

- ``ci`` (with ``--run-slow``, as CI and ``make test-all`` run): 1,000 examples per target,
  derandomised (the same examples on every run, so CI never flakes), no example database.
  About 90 s for the whole suite on 2 CPU cores.
- ``long``: 20,000 random examples per target, with the example database, for runs by hand::

      SKSPECTRA_FUZZ_PROFILE=long python -m pytest tests/fuzz -q --hypothesis-show-statistics

- ``quick`` (the default of ``make test``): 50 derandomised examples per target.

The profiles are applied by the ``fuzz`` decorator of ``_fuzz.py`` to the fuzz tests only, so
other hypothesis tests keep hypothesis's defaults.
"""

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # timings on a shared machine vary; hangs are caught by an alarm instead
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    "print_blob": True,
}
settings.register_profile(
    "skspectra-ci", max_examples=1000, derandomize=True, database=None, **_COMMON
)
settings.register_profile("skspectra-long", max_examples=20_000, **_COMMON)
settings.register_profile(
    "skspectra-quick", max_examples=50, derandomize=True, database=None, **_COMMON
)
