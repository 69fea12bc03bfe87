"""jieba, set up for this domain: its own `jieba.Tokenizer`, our words, our cache file.

Each `DomainTokenizer` (so each `Parser`) owns its `jieba.Tokenizer`, built once in its
constructor and never changed afterwards; there is no module-level cache. The app builds one
Parser per process; the dictionary cache file on disk keeps a rebuild to a few hundred ms.
Imports jieba only.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import jieba

CACHE_FILE = "jieba.jiaolian.cache"
# Higher than any word of jieba's own dictionary, so domain words stay whole.
USER_FREQ = 2_000_000


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jiaolian"


def writable_dir(preferred: Path | None) -> Path:
    """`preferred` (or the default cache dir) if it can be written, else a temp dir."""
    for candidate in (preferred or default_cache_dir(),
                      Path(tempfile.gettempdir()) / f"jiaolian-{os.getuid()}"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            probe = candidate / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
            return candidate
        except OSError:
            continue
    return Path(tempfile.mkdtemp(prefix="jiaolian-"))


def _build(cache_dir: str, words: tuple[str, ...]) -> jieba.Tokenizer:
    """A fresh tokenizer with `words` added, owned by its caller."""
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = cache_dir
    tokenizer.cache_file = CACHE_FILE
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=USER_FREQ)
    return tokenizer


class DomainTokenizer:
    """Segments text with jieba's DAG and our user dictionary (no HMM: faster, no guessing)."""

    def __init__(self, words: Iterable[str], cache_dir: Path | None = None) -> None:
        self.cache_dir = writable_dir(cache_dir)
        vocabulary = tuple(sorted({w for w in words if w.strip()}, key=lambda w: (-len(w), w)))
        self._jieba = _build(str(self.cache_dir), vocabulary)

    def tokens(self, text: str) -> list[str]:
        return self._jieba.lcut(text, HMM=False)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, token) for each token of `text`."""
        out: list[tuple[int, int, str]] = []
        pos = 0
        for token in self._jieba.cut(text, HMM=False):
            out.append((pos, pos + len(token), token))
            pos += len(token)
        return out
