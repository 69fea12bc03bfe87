"""Message understanding: Chinese chat text → intent and slots (spec/nlu.md)."""

from handlers.nlu.parser import Parser, ParseResult

__all__ = ["ParseResult", "Parser"]
