"""`streamlit run`, with every Surface Lab computation counted in the stats file (for bench_classroom.py).

    python bench/serve_counted.py run app.py --server.port 8599 ...     (the arguments of `streamlit`)

The page cache (optlab/ui/cache.py) pairs each `cached_*` wrapper with a plain `compute_*` function that does the
work; the wrapper looks that function up by name when it misses. When the module is first imported (by the first
page run, inside Streamlit's runtime) each `compute_*` is replaced by one that counts a call under
`compute.<name>` in optlab.jobs.stats, which writes OPTLAB_STATS_FILE. Nothing else changes.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys

TARGET = "optlab.ui.cache"


def _count_calls(module) -> None:
    from optlab.jobs import stats

    for name in [n for n in vars(module) if n.startswith("compute_") and callable(getattr(module, n))]:
        fn = getattr(module, name)

        @functools.wraps(fn)
        def counted(*args, _fn=fn, _name=name, **kwargs):
            stats.count(f"compute.{_name}")
            return _fn(*args, **kwargs)

        setattr(module, name, counted)


class _CountOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_count(module):
            exec_module(module)
            _count_calls(module)

        spec.loader.exec_module = exec_and_count
        return spec


def main() -> None:
    sys.meta_path.insert(0, _CountOnImport())
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
