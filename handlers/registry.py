"""The one place where every feature's router is included; the order here is the routing order."""

from __future__ import annotations

from handlers import activity, bind, checkin, correct, help, plans, query, undo
from handlers.routing import Dispatcher


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include(checkin.router)
    dispatcher.include(activity.router)
    dispatcher.include(plans.router)
    dispatcher.include(correct.router)
    dispatcher.include(query.router)
    dispatcher.include(undo.router)
    dispatcher.include(bind.router)
    dispatcher.include(help.router)
    return dispatcher
