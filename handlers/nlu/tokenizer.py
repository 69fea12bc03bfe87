"""jieba, set up for this domain: its own `jieba.Tokenizer` over the parser's own dictionary.

The dictionary (jieba_dict.txt, package data, built by tools/build_jieba_dict.py) holds the
default lexicon's words and the words of jieba's dictionary that can change which of them
the tokens show, with jieba's frequencies and its total; loading it takes milliseconds where
jieba's 349,000-word dictionary took half a second and 60 MB. Roster school names and
configured `[nlu] words` are added at load. Nothing is written: jieba's own loader would
write a cache file to the temp dir. Each `DomainTokenizer` (so each `Parser`) owns its
tokenizer, built once in its constructor and never changed afterwards.
Imports jieba only.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

DICTIONARY = Path(__file__).with_name("jieba_dict.txt")
# The parser's words weigh more than any word of jieba's dictionary, so they stay whole.
USER_FREQ = 2_000_000
# A private-use character no message holds: its entry carries the rest of jieba's total.
PADDING = "\ue000"


def _import_jieba() -> None:
    """Import jieba without pkg_resources, which its _compat imports (0.2 s) only to open
    jieba's own dict.txt; without it jieba opens the file directly, as it was written to."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        return
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba  # noqa: F401
    finally:
        if sys.modules.get("pkg_resources", ...) is None:
            del sys.modules["pkg_resources"]


_import_jieba()
import jieba  # noqa: E402

# jieba cuts a text into blocks (runs of Han characters, letters and digits, and the stretches
# between them) and segments each block on its own: its `cut` splits with this pattern.
BLOCKS = jieba.re_han_default


def _load(words: Iterable[str]) -> jieba.Tokenizer:
    """A fresh tokenizer over DICTIONARY with `words` added, owned by its caller."""
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(dictionary=str(DICTIONARY))
    with tokenizer.get_dict_file() as f:
        tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(f)
    tokenizer.initialized = True
    for word in words:
        if tokenizer.FREQ.get(word) != USER_FREQ:
            tokenizer.add_word(word, freq=USER_FREQ)
    return tokenizer


class DomainTokenizer:
    """Segments text with jieba's DAG and our dictionary (no HMM: faster, no guessing).

    `cache_dir` is accepted for callers of the cached loader and unused: nothing is cached."""

    def __init__(self, words: Iterable[str], cache_dir: Path | None = None) -> None:
        vocabulary = sorted({w for w in words if w.strip()}, key=lambda w: (-len(w), w))
        self._jieba = _load(vocabulary)

    def tokens(self, text: str) -> list[str]:
        words: list[str] = self._jieba.lcut(text, HMM=False)
        return words

    def spans(self, text: str, wanted: Callable[[str], object] | None = None,
              ) -> list[tuple[int, int, str]]:
        """(start, end, token) for each token of `text`; with `wanted`, only those of the
        blocks (BLOCKS) that `wanted` accepts. jieba segments each block on its own, so the
        tokens of a block are the same either way, and a caller that looks for words in
        tokens need not segment a block that holds none of them (most of a message)."""
        out: list[tuple[int, int, str]] = []
        pos = 0
        for block in (text,) if wanted is None else BLOCKS.split(text):
            if wanted is not None and not wanted(block):
                pos += len(block)
                continue
            for token in self._jieba.cut(block, HMM=False):
                out.append((pos, pos + len(token), token))
                pos += len(token)
        return out
