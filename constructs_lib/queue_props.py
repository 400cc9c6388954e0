"""A queue worker's settings: the SQS queue it reads (created here or an existing one by ARN) and
how the service scales on it. No cdktf: the settings loader parses the configuration into them.

The service scales on the queue's backlog per task (visible messages / running tasks) by target
tracking, between ``min_count`` (0 allowed: no task while the queue is empty) and ``max_count``;
``constructs_lib/autoscaling.py`` ``QueueAutoscaling`` says how it starts the first task from zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, model_validator

from constructs_lib.fields import EnvVarName, KmsKeyArn, SqsQueueArn, SqsQueueName
from constructs_lib.props import NO_VALUE, Problem, Props
from ecs_cd.core import aws_formats, names

# SQS's limits (CreateQueue): retention 60 s to 14 days, visibility timeout up to 12 hours,
# maxReceiveCount of a redrive policy 1 to 1000.
MAX_RETENTION_SECONDS = 1_209_600


class DeadLetter(Props):
    """A dead-letter queue beside the created queue: a message received ``max_receive_count`` times
    (default 5) without being deleted moves there, and stays ``message_retention_seconds``
    (default 1209600, SQS's longest: 14 days)."""

    max_receive_count: Annotated[StrictInt, Field(ge=1, le=1000)] = 5
    """Receives without a delete after which a message moves to the dead-letter queue."""
    message_retention_seconds: Annotated[StrictInt, Field(ge=60, le=MAX_RETENTION_SECONDS)] = (
        MAX_RETENTION_SECONDS
    )
    """Seconds the dead-letter queue keeps a message (default SQS's longest: 14 days)."""


# What only a queue made here can have: an existing queue is configured where it is managed.
CREATED_ONLY = ("name", "visibility_timeout_seconds", "message_retention_seconds", "dead_letter")


class ServiceQueue(Props):
    """The queue a service works off, and its scaling.

    - ``create`` (default False) or ``arn`` (default None): a queue made here (standard, encrypted
      with SQS's own key unless ``kms_key_arn``), or an existing one; exactly one of the two.
    - ``max_count`` (required) and ``min_count`` (default 0): the tasks the scaler may run;
      ``messages_per_task`` (default 10): the backlog per task it keeps to; cooldowns in seconds,
      default 300 (in) and 60 (out).
    - With ``create`` only: ``name`` (default None: the stacks derive ``<project>-<env>-<service>``),
      ``visibility_timeout_seconds`` and ``message_retention_seconds`` (default SQS's: 30 s, 4 days),
      ``dead_letter`` (default None: no dead-letter queue).
    - ``kms_key_arn`` (default None): the customer-managed key the queue is encrypted with (a
      created queue uses it instead of SQS's own key); the task role may decrypt with it.
    - ``environment_variable`` (default ``QUEUE_URL``): the app container's variable that holds
      the queue's URL.
    """

    create: StrictBool = False
    """Create the queue here: standard, encrypted with SQS's own key unless ``kms_key_arn`` (this
    or ``arn`` is required, not both)."""
    arn: SqsQueueArn | None = None
    """An existing queue's ARN, in the environment's region."""
    messages_per_task: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 10
    """The backlog per task (visible messages / running tasks) the scaler keeps to."""
    min_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 0
    """The fewest tasks (0: no task while the queue is empty)."""
    max_count: Annotated[StrictInt, Field(ge=1, le=1000)]
    """The most tasks; at least ``min_count``."""
    scale_in_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one."""
    scale_out_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one."""
    name: SqsQueueName | None = None
    """The created queue's name, not ending in ``.fifo`` (``create`` only; unset:
    ``<project>-<env>-<service>``)."""
    visibility_timeout_seconds: Annotated[StrictInt, Field(ge=0, le=43_200)] | None = None
    """Seconds a received message stays hidden from other receivers (``create`` only; unset:
    SQS's 30)."""
    message_retention_seconds: Annotated[StrictInt, Field(ge=60, le=MAX_RETENTION_SECONDS)] | None = None
    """Seconds the queue keeps a message (``create`` only; unset: SQS's 4 days)."""
    dead_letter: DeadLetter | None = None
    """A dead-letter queue beside the created one (``create`` only; unset: none)."""
    kms_key_arn: KmsKeyArn | None = None
    """A customer-managed key the queue is encrypted with, in the environment's region; the task
    role may decrypt with it (unset: SQS's own key)."""
    environment_variable: EnvVarName = "QUEUE_URL"
    """The app container's variable that holds the queue's URL (``environment`` and ``secrets``
    must leave it to the queue)."""

    @model_validator(mode="after")
    def _consistent(self) -> ServiceQueue:
        if self.create and self.arn is not None:
            raise ValueError(
                "queue: set create = true or arn, not both (a queue made here, or an existing one)"
            )
        if not self.create and self.arn is None:
            raise ValueError("queue needs create = true (a queue made here) or arn (an existing queue's ARN)")
        created_only = [field for field in CREATED_ONLY if getattr(self, field) is not None]
        if created_only and not self.create:
            verb = "apply" if len(created_only) > 1 else "applies"
            raise ValueError(
                f"queue.{', queue.'.join(created_only)} only {verb} with create = true (an existing "
                "queue is configured where it is managed)"
            )
        if self.min_count > self.max_count:
            raise ValueError(
                f"queue.min_count ({self.min_count}) must not exceed queue.max_count ({self.max_count})"
            )
        if self.name is not None:
            _created_name_fits(self.name, dead_letter=self.dead_letter is not None)
        return self

    @property
    def queue_name(self) -> str | None:
        """The queue's name: the created one's (None until the stacks name it) or the ARN's."""
        if self.arn is not None:
            return aws_formats.sqs_queue_parts(self.arn)[3]
        return self.name

    @property
    def dead_letter_name(self) -> str | None:
        """The created dead-letter queue's name, if there is one."""
        if self.dead_letter is None or self.name is None:
            return None
        return names.dead_letter_queue_name(self.name)


def _created_name_fits(name: str, *, dead_letter: bool) -> None:
    if name.endswith(".fifo"):
        raise ValueError(
            "queue.name: a queue made here is a standard queue, so its name must not end in '.fifo' "
            "(a FIFO queue made elsewhere is given by arn)"
        )
    if dead_letter:
        aws_formats.validate_sqs_queue_name(names.dead_letter_queue_name(name))


def queue_problems(
    queue: ServiceQueue | None,
    *,
    autoscaling: bool,
    variables: Iterable[str] = (),
    secrets: Iterable[str] = (),
) -> list[Problem]:
    """A queue against the rest of its service: ``autoscaling``, whether the service also scales on
    CPU or memory (one scalable target per service), and the app container's ``variables`` and
    ``secrets``, which must leave the queue's URL variable to it. The one home of these rules:
    ``ServiceOptions`` and ``AppServiceProps`` validate with it, the settings loader reports each
    problem at its field."""
    if queue is None:
        return []
    found: list[Problem] = []
    if autoscaling:
        found.append(
            Problem(
                "queue",
                NO_VALUE,
                "scales the service on its messages, and autoscaling on CPU and memory: keep one "
                "(a service has one scalable target; a queue worker scales on its queue)",
                ("queue", "autoscaling"),
            )
        )
    variable = queue.environment_variable
    for field, taken in (("environment", variables), ("secrets", secrets)):
        if variable in set(taken):
            found.append(
                Problem(
                    f"{field}.{variable}",
                    NO_VALUE,
                    f"is the queue's URL (queue.environment_variable = {variable!r}): remove it here "
                    "or name another variable in queue.environment_variable",
                    (f"{field}.{variable}", "queue"),
                )
            )
    return found
