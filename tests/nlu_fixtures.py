"""Session-scoped parsers for the NLU tests.

A Parser owns its jieba tokenizer (no process-wide cache), so building one per test module
would load the dictionary again each time; the tests share one default Parser instead.
Import the fixture into a test module: `from tests.nlu_fixtures import parser  # noqa: F401`.
"""

from __future__ import annotations

import pytest

from handlers.nlu.parser import Parser
from storage.demo_county import demo_schools


@pytest.fixture(scope="session")
def parser(tmp_path_factory: pytest.TempPathFactory) -> Parser:
    """The default parser on the demo roster, shared by every NLU test of the session."""
    return Parser(schools=demo_schools(), settings={},
                  cache_dir=tmp_path_factory.mktemp("jieba-cache"))
