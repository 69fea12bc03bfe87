"""Message understanding: Chinese chat text → intent and slots (spec/nlu.md)."""

from handlers.nlu.lexicon import activity_names
from handlers.nlu.parser import CONFIDENT, Parser, ParseResult

__all__ = ["CONFIDENT", "ParseResult", "Parser", "activity_names"]
