"""ECS's task sizes, as validators: Fargate's cpu and memory table, EC2's bounds, and the size of
a task's container definitions."""

from __future__ import annotations

from collections.abc import Mapping

# Fargate task-level cpu (units) -> allowed memory (MiB), from the AWS ECS
# "Task size" table for Linux Fargate tasks.
FARGATE_CPU_MEMORY: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# ECS's bounds of a task's cpu units on EC2 (optional there, unlike on Fargate).
EC2_TASK_CPU = (128, 196608)

# ECS's quota on the size of a task definition (RegisterTaskDefinition's container definitions).
MAX_TASK_DEFINITION_BYTES = 64 * 1024


def validate_task_definition_size(size: int) -> None:
    """``size``: the bytes of a task's container definitions (as JSON), which ECS caps at 64 KiB."""
    if size > MAX_TASK_DEFINITION_BYTES:
        raise ValueError(
            f"its container definitions come to at least {size:,} bytes, over ECS's "
            f"{MAX_TASK_DEFINITION_BYTES // 1024} KiB per task definition (image tags from SSM "
            "counted at their 128 characters): move large values out of environment, command or options"
        )


def validate_fargate_size(cpu: int, memory: int) -> None:
    validate_fargate_cpu(cpu)
    validate_fargate_memory(cpu, memory)


def validate_fargate_cpu(cpu: int) -> None:
    if cpu not in FARGATE_CPU_MEMORY:
        raise ValueError(f"Fargate cpu must be one of {sorted(FARGATE_CPU_MEMORY)}")


def validate_fargate_memory(cpu: int, memory: int) -> None:
    """``memory`` for a Fargate ``cpu`` (a valid one: ``validate_fargate_cpu``)."""
    allowed = FARGATE_CPU_MEMORY[cpu]
    if memory not in allowed:
        raise ValueError(f"Fargate memory for cpu {cpu} must be one of {list(allowed)} (MiB)")


def validate_ec2_task_size(cpu: int | None, memory: int | None) -> None:
    validate_ec2_task_cpu(cpu)
    validate_ec2_task_memory(memory)


def validate_ec2_task_cpu(cpu: int | None) -> None:
    low, high = EC2_TASK_CPU
    if cpu is not None and not low <= cpu <= high:
        raise ValueError(f"task cpu on EC2 must be between {low} and {high} units (or unset)")


def validate_ec2_task_memory(memory: int | None) -> None:
    if memory is not None and memory < 6:
        raise ValueError("task memory on EC2 must be at least 6 MiB (or unset)")
