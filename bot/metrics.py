"""Prometheus metrics, one registry per app (never the library's global one), so that tests
and several apps in one process do not collide. `GET /metrics` renders `registry`.

The worker, delivery, ingest and web middleware count into one `Metrics`; labels are
platforms and short reasons, never user text or ids.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# Seconds: acknowledgements must stay well inside Feishu's 3 s; replies may take minutes.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
_PARSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_received = Counter(
            "jiaolian_events_received", "Incoming events saved or recognised as redeliveries",
            ["platform"], registry=r)
        self.events_deduplicated = Counter(
            "jiaolian_events_deduplicated", "Redelivered events that were already in the inbox",
            ["platform"], registry=r)
        self.events_refused = Counter(
            "jiaolian_events_refused", "Webhook requests refused before the inbox",
            ["reason"], registry=r)
        self.events_processed = Counter(
            "jiaolian_events_processed", "Inbox events handled and committed",
            ["platform"], registry=r)
        self.events_failed = Counter(
            "jiaolian_events_failed", "Inbox events whose handling raised (retried later)",
            ["platform"], registry=r)
        self.replies_queued = Counter(
            "jiaolian_replies_queued", "Messages put in the outbox", ["source"], registry=r)
        self.replies_sent = Counter(
            "jiaolian_replies_sent", "Outbox messages the platform accepted", ["platform"],
            registry=r)
        self.replies_retried = Counter(
            "jiaolian_replies_retried", "Outbox messages scheduled for another try",
            ["platform"], registry=r)
        self.replies_given_up = Counter(
            "jiaolian_replies_given_up", "Outbox messages given up on (permanent error or too "
            "many tries)", ["platform"], registry=r)
        self.replies_rate_limited = Counter(
            "jiaolian_replies_rate_limited", "Sends put off by a rate limit (the platform's "
            "answer or a shared window); not counted as tries", ["platform"], registry=r)
        self.loop_failures = Counter(
            "jiaolian_loop_failures", "Background loop iterations that failed", ["loop"],
            registry=r)
        self.scheduler_runs = Counter(
            "jiaolian_scheduler_runs", "Scheduler beats, by outcome", ["outcome"], registry=r)
        self.parse_seconds = Histogram(
            "jiaolian_parse_seconds", "Time to parse one message", registry=r,
            buckets=_PARSE_BUCKETS)
        self.ack_seconds = Histogram(
            "jiaolian_ack_seconds", "Webhook request to its answer (save, then acknowledge)",
            ["platform"], registry=r, buckets=_ACK_BUCKETS)
        self.process_seconds = Histogram(
            "jiaolian_process_seconds", "Event received to handled (inbox latency)",
            ["platform"], registry=r, buckets=_LATENCY_BUCKETS)
        self.delivery_seconds = Histogram(
            "jiaolian_delivery_seconds", "Message queued to accepted by the platform",
            ["platform"], registry=r, buckets=_LATENCY_BUCKETS)

        # Children of the histogram observed on every acknowledgement, labelled once.
        self._ack_children: dict[str, Any] = {}

    def observe_ack(self, platform: str, seconds: float) -> None:
        child = self._ack_children.get(platform)
        if child is None:
            child = self._ack_children[platform] = self.ack_seconds.labels(platform)
        child.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
