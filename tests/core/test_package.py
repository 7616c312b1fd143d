"""The package's promises: a standard-library core and a guarded public API."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import chainviz


def test_import_chainviz_loads_no_third_party_package() -> None:
    script = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        import chainviz, chainviz.core, chainviz.errors
        loaded = set(sys.modules) - before
        third_party = sorted(
            name for name in loaded
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("chainviz")
        )
        print(third_party)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_public_api_is_listed() -> None:
    expected = {
        "CancelEvent", "CancelToken", "ConfigurableField", "EndEvent", "ErrorEvent",
        "InputSchema", "RunEvent", "Runnable", "RunnableAssign", "RunnableBinding",
        "RunnableConfig", "RunnableGenerator", "RunnableLambda", "RunnableMap",
        "RunnableParallel", "RunnablePassthrough", "RunnableRetry", "RunnableSequence",
        "RunnableWithFallbacks", "StartEvent", "TokenEvent", "__version__", "atimeit",
        "coerce_to_runnable", "show", "timeit",
    }
    assert set(chainviz.__all__) == expected
    for name in expected - {"show", "timeit", "atimeit"}:
        assert hasattr(chainviz, name)


def test_missing_extra_names_the_pip_line() -> None:
    import pytest

    from chainviz.errors import MissingExtraError, require_extra

    with pytest.raises(MissingExtraError, match=r"pip install 'chainviz\[graph\]'"):
        require_extra("surely_not_installed_pkg", "graph", purpose="Rendering")
