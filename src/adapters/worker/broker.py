"""Choosing the taskiq broker from configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

REDIS_SCHEMES = frozenset({"redis", "rediss"})


def build_broker(
    broker_url: str | None,
    *,
    queue_name: str = "platform:tasks",
    consumer_group: str = "platform-workers",
    idle_timeout_seconds: float = 60.0,
    read_block_seconds: float = 2.0,
    connect_timeout_seconds: float = 5.0,
    max_stream_length: int = 100_000,
) -> AsyncBroker:
    """The in-memory broker without a URL, a Redis stream broker for redis:// URLs.

    With Redis, a worker acknowledges a message only after its task ran; a
    message held by a worker that died goes to another worker once it has
    been idle for `idle_timeout_seconds`, which must exceed the slowest task.
    taskiq-redis looks for such messages only after a read that returned new
    ones, so in a quiet queue they wait for the next message: the scheduler's
    periodic drain provides one, and delivers due mail by itself anyway.
    """
    if broker_url is None:
        return InMemoryBroker()

    scheme = urlsplit(broker_url).scheme
    if scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"unsupported task broker scheme {scheme!r}: use redis:// or "
            "rediss://, or no URL for the in-memory broker"
        )
    return RedisStreamBroker(
        broker_url,
        queue_name=queue_name,
        consumer_group_name=consumer_group,
        # "0" lets a new group read messages queued before any worker started.
        consumer_id="0",
        xread_block=_milliseconds(read_block_seconds),
        idle_timeout=_milliseconds(idle_timeout_seconds),
        maxlen=max_stream_length,
        socket_connect_timeout=connect_timeout_seconds,
    )


def _milliseconds(seconds: float) -> int:
    milliseconds = round(seconds * 1000)
    if milliseconds <= 0:
        raise ValueError(f"expected a positive number of seconds, got {seconds}")
    return milliseconds


async def finish_in_process_tasks(broker: AsyncBroker) -> None:
    """Wait for tasks the in-memory broker is running, before a short process exits.

    A command that queues mail would otherwise end while its delivery task is
    half done; the message stays in the outbox either way, but this sends it.
    """
    if isinstance(broker, InMemoryBroker):
        await broker.wait_all()
