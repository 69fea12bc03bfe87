"""Message understanding: Chinese chat text → intent and slots (spec/nlu.md)."""

from handlers.nlu.lexicon import activity_names
from handlers.nlu.parser import CONFIDENT, Parser, ParseResult
from handlers.nlu.slot_json import slots_from_json, slots_to_json

__all__ = ["CONFIDENT", "ParseResult", "Parser", "activity_names", "slots_from_json",
           "slots_to_json"]
