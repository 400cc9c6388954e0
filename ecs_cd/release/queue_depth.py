"""A queue worker's queue as `status` and `overview` show it: how many messages wait, how many are
being worked on, and the range the scaler keeps the service in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecs_cd.core.aws_formats import sqs_queue_parts
from ecs_cd.release.aws import describe_failure

if TYPE_CHECKING:
    from ecs_cd.release.aws import Aws
    from stacks.settings import ServiceSettings

# ApproximateNumberOfMessages is SQS's name for the messages available for retrieval (visible).
_VISIBLE, _IN_FLIGHT = "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"


def queue_depth(aws: Aws, service: ServiceSettings) -> dict[str, Any]:
    """A queue worker's queue: its name, its ``visible`` and ``in_flight`` messages (None, with a
    ``reason``, when SQS does not answer them), and the scaler's range and target."""
    queue = service.queue
    assert queue is not None, f"{service.name} is no queue worker"
    name = queue.queue_name
    found: dict[str, Any] = {
        "queue": name,
        "visible": None,
        "in_flight": None,
        "min_count": queue.min_count,
        "max_count": queue.max_count,
        "messages_per_task": queue.messages_per_task,
    }
    lookup: dict[str, str] = {"QueueName": str(name)}
    if queue.arn is not None:
        lookup["QueueOwnerAWSAccountId"] = sqs_queue_parts(queue.arn)[2]
    operation = "GetQueueUrl"
    try:
        url = aws.call("sqs", "get_queue_url", **lookup)["QueueUrl"]
        operation = "GetQueueAttributes"
        attributes = aws.call(
            "sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=[_VISIBLE, _IN_FLIGHT]
        )["Attributes"]
    except ClientError as exc:
        found["reason"] = str(describe_failure("sqs", operation, exc))
        return found
    found["visible"] = int(attributes.get(_VISIBLE, 0))
    found["in_flight"] = int(attributes.get(_IN_FLIGHT, 0))
    return found


def depth_line(depth: dict[str, Any]) -> str:
    """One line of `status`: the queue, its messages, the scaling range."""
    scaling = (
        f"scales {depth['min_count']}-{depth['max_count']} tasks at {depth['messages_per_task']} "
        "messages per task"
    )
    if depth["visible"] is None:
        return f"  queue {depth['queue']}: depth unknown ({depth.get('reason', '?')}); {scaling}"
    return f"  queue {depth['queue']}: {depth['visible']} waiting, {depth['in_flight']} in flight; {scaling}"


def depth_short(depth: dict[str, Any]) -> str:
    """What `overview`'s cell adds: ``q=<waiting>`` and the range, e.g. ``q=12 [0-10]``."""
    waiting = "?" if depth["visible"] is None else depth["visible"]
    return f"q={waiting} [{depth['min_count']}-{depth['max_count']}]"
