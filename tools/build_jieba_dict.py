"""Build handlers/nlu/jieba_dict.txt: the parser's own jieba dictionary, shipped prebuilt.

Usage: python tools/build_jieba_dict.py [--check]

The parser reads jieba's tokens only to find trigger, subject and non-activity words in them
(slots.SlotFinder: a trigger or subject counts inside a token, a blocked noun only as a whole
token). With HMM off, text outside the dictionary falls apart into single characters, which
hides no such word; what can change an answer is a word of jieba's dictionary that overlaps
one of ours ("代数学": 代数 takes 数 from 数学). So the dictionary holds:

- the default lexicon's vocabulary (SlotFinder.dictionary_words() without a roster), at
  tokenizer.USER_FREQ, the weight the parser has always given its words;
- every word of jieba's dictionary that, in the shortest text joining it to one of our
  trigger, subject or blocked words (the word holding ours, or overlapping its head or tail),
  changes which of ours the tokens show — the same test repeated with the words found so far
  until nothing changes — at jieba's own frequency;
- one padding entry (a private-use character no text holds) carrying the rest of jieba's
  total frequency, so every path through a sentence scores as it does with the full dictionary.

Roster school names and configured `[nlu] words` are added at load (DomainTokenizer).
`--check` rebuilds in memory and fails if the committed file differs (jieba or lexicon changed).
Needs jieba's own dict.txt (the installed package); takes about a minute.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from handlers.nlu.lexicon import build_lexicon  # noqa: E402
from handlers.nlu.slots import SlotFinder  # noqa: E402
from handlers.nlu.tokenizer import DICTIONARY, PADDING, USER_FREQ  # noqa: E402

Signature = frozenset[tuple[str, int, str]]


def jieba_frequencies() -> dict[str, int]:
    words: dict[str, int] = {}
    path = Path(jieba.__file__).parent / "dict.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            words[parts[0]] = int(parts[1])
    return words


def tokenizer(freq: dict[str, int], total: int, vocabulary: Iterable[str]) -> jieba.Tokenizer:
    """A jieba tokenizer over `freq` scored against `total`, with our words added."""
    tok = jieba.Tokenizer()
    table: dict[str, int] = {}
    for word, f in freq.items():
        table[word] = f
        for i in range(1, len(word)):
            table.setdefault(word[:i], 0)
    tok.FREQ, tok.total, tok.initialized = table, total, True
    for word in vocabulary:
        tok.add_word(word, freq=USER_FREQ)
    return tok


def contexts(targets: Iterable[str], jieba_words: Iterable[str],
             vocabulary: set[str]) -> dict[str, set[str]]:
    """For each jieba word touching one of `targets`: the shortest texts joining the two."""
    out: dict[str, set[str]] = {}
    targets = list(targets)
    for word in jieba_words:
        if word in vocabulary:
            continue
        for target in targets:
            if target in word:
                out.setdefault(word, set()).add(word)
            for i in range(1, min(len(word), len(target))):
                if word[-i:] == target[:i]:
                    out.setdefault(word, set()).add(word + target[i:])
                if word[:i] == target[-i:]:
                    out.setdefault(word, set()).add(target + word[i:])
    return out


def build() -> str:
    jieba.setLogLevel(logging.WARNING)
    finder = SlotFinder(build_lexicon({}), [])
    vocabulary = sorted({w for w in finder.dictionary_words() if w.strip()})
    full = jieba_frequencies()
    base = sum(full.values())  # add_word adds USER_FREQ per word of ours on top

    def signature(tok: jieba.Tokenizer, text: str) -> Signature:
        found: set[tuple[str, int, str]] = set()
        pos = 0
        for token in tok.cut(text, HMM=False):
            if token in finder.blocked:
                found.add(("blocked", pos, token))
            else:
                for m in finder._trigger_re.finditer(token):
                    found.add(("trigger", pos + m.start(), m.group(0)))
                for m in finder._subject_re.finditer(token):
                    found.add(("subject", pos + m.start(), m.group(0)))
            pos += len(token)
        return frozenset(found)

    with tempfile.TemporaryDirectory() as tmp:
        reference = jieba.Tokenizer()
        reference.tmp_dir = tmp
        reference.initialize()
        for word in vocabulary:
            reference.add_word(word, freq=USER_FREQ)
        targets = {*finder.triggers, *finder.subjects, *finder.blocked}
        todo = contexts(targets, full, set(vocabulary))
        kept: set[str] = set()
        while True:
            tok = tokenizer({w: full[w] for w in kept}, base, vocabulary)
            new = {word for word, texts in todo.items() if word not in kept
                   and any(signature(tok, t) != signature(reference, t) for t in texts)}
            if not new:
                break
            kept |= new
    lines = [f"{w} {USER_FREQ}" for w in vocabulary]
    lines += [f"{w} {full[w]}" for w in sorted(kept)]
    listed = USER_FREQ * len(vocabulary) + sum(full[w] for w in kept)
    lines.append(f"{PADDING} {base + USER_FREQ * len(vocabulary) - listed}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = ap.parse_args()
    text = build()
    if args.check:
        same = DICTIONARY.is_file() and DICTIONARY.read_text(encoding="utf-8") == text
        print(f"{DICTIONARY.relative_to(ROOT)}: {'up to date' if same else 'STALE'}")
        return 0 if same else 1
    DICTIONARY.write_text(text, encoding="utf-8")
    print(f"wrote {DICTIONARY.relative_to(ROOT)}: {text.count(chr(10))} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
