"""The SQS queue a queue worker reads: created here (with its dead-letter queue) or an existing one,
and the task role's permission to consume it and nothing else."""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from constructs_lib.queue_props import ServiceQueue
from ecs_cd.core.aws_formats import sqs_queue_url

# What a worker does with its queue: receive, delete what it finished, extend or give back a
# message it is still working on, read the queue's attributes (depth, visibility timeout).
CONSUME_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)


def consumer_statements(queue_arn: str, kms_key_arn: str | None) -> list[dict[str, object]]:
    """The task role's statements for one queue: consume it, and decrypt its messages when a
    customer-managed key encrypts them (SQS's own key needs no permission)."""
    statements: list[dict[str, object]] = [
        {"Sid": "ConsumeQueue", "Effect": "Allow", "Action": list(CONSUME_ACTIONS), "Resource": queue_arn}
    ]
    if kms_key_arn is not None:
        statements.append(
            {"Sid": "DecryptQueue", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": kms_key_arn}
        )
    return statements


class WorkQueue(Construct):
    """``queue`` (and ``dead-letter``) when ``settings.create``, encrypted at rest (SQS's own key, or
    ``kms_key_arn``); nothing for an existing queue, whose URL follows from its ARN."""

    def __init__(self, scope: Construct, id_: str, *, settings: ServiceQueue) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        self._queue: SqsQueue | None = None
        self._dead_letter: SqsQueue | None = None
        if not settings.create:
            assert settings.arn is not None  # ServiceQueue: create or arn
            self._arn, self._url = settings.arn, sqs_queue_url(settings.arn)
            return
        if settings.name is None:
            raise ValueError("queue.create needs queue.name (the stacks derive <project>-<env>-<service>)")
        if settings.dead_letter is not None:
            self._dead_letter = SqsQueue(
                self,
                "dead-letter",
                name=settings.dead_letter_name,
                message_retention_seconds=settings.dead_letter.message_retention_seconds,
                **self._encryption(),
            )
        redrive = None
        if self._dead_letter is not None and settings.dead_letter is not None:
            redrive = json.dumps(
                {
                    "deadLetterTargetArn": self._dead_letter.arn,
                    "maxReceiveCount": settings.dead_letter.max_receive_count,
                },
                separators=(",", ":"),  # SQS's own form, as it answers GetQueueAttributes
            )
        self._queue = SqsQueue(
            self,
            "queue",
            name=settings.name,
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            message_retention_seconds=settings.message_retention_seconds,
            redrive_policy=redrive,
            **self._encryption(),
        )
        self._arn, self._url = self._queue.arn, self._queue.url

    def _encryption(self) -> dict[str, Any]:
        key = self._settings.kms_key_arn
        return {"kms_master_key_id": key} if key is not None else {"sqs_managed_sse_enabled": True}

    def grant_consume(self, role: IamRole) -> IamRolePolicy:
        """An inline policy of ``role`` (the task role): consume this queue, nothing else."""
        statements = consumer_statements(self._arn, self._settings.kms_key_arn)
        return IamRolePolicy(
            self,
            "consume-policy",
            name="consume-queue",
            role=role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )

    @property
    def arn(self) -> str:
        """The queue's ARN (a reference when created here)."""
        return self._arn

    @property
    def url(self) -> str:
        """The queue's URL (a reference when created here)."""
        return self._url

    @property
    def queue(self) -> SqsQueue | None:
        """The ``aws_sqs_queue`` (created queues only)."""
        return self._queue

    @property
    def dead_letter(self) -> SqsQueue | None:
        """The dead-letter ``aws_sqs_queue`` (with ``dead_letter`` only)."""
        return self._dead_letter
