"""The language layer and the models package load no third-party package."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_language_and_models_import_only_the_standard_library() -> None:
    script = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        import chainviz, chainviz.messages, chainviz.prompts, chainviz.parsers, chainviz.models
        from chainviz.models import SimulatedChatModel, BaseChatModel
        loaded = set(sys.modules) - before
        print(sorted(
            name for name in loaded
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("chainviz")
        ))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_public_names_are_listed() -> None:
    import chainviz.messages
    import chainviz.models
    import chainviz.parsers
    import chainviz.prompts

    for module in (chainviz.messages, chainviz.prompts, chainviz.parsers, chainviz.models):
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
    assert {"BaseChatModel", "SimulatedChatModel", "ChatOpenAI"} <= set(chainviz.models.__all__)
