"""The two roles of a task: the execution role ECS uses to start it, and the application's own role.

The execution role may pull exactly from the ECR repositories the containers use, read
exactly the union of their secrets, decrypt with exactly the configured key, and write to
the task's log group; the task role starts with no permission at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

_ECR_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]


def trust_policy(*, account_id: str | None, region: str) -> str:
    """Who may assume a task's roles: ECS tasks, and with ``account_id`` (default None: no
    condition) only on behalf of this account's ECS in ``region`` (AWS's confused-deputy guidance)."""
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if account_id is not None:
        statement["Condition"] = {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
        }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass(frozen=True)
class TaskRoles:
    """The roles and the execution role's inline policy."""

    execution_role: IamRole
    task_role: IamRole
    execution_policy: IamRolePolicy


def _one_or_many(arns: Sequence[str]) -> str | list[str]:
    # One repository stays a string: the policy of a one-image task keeps its deployed text.
    return arns[0] if len(arns) == 1 else list(arns)


def execution_statements(
    *,
    repository_arns: Sequence[str],
    secret_arns: Sequence[str],
    secrets_kms_key_arn: str | None,
    log_group_arn: str,
) -> list[dict[str, object]]:
    """The execution policy's statements, least privilege, in a stable order."""
    statements: list[dict[str, object]] = []
    repositories = sorted(set(repository_arns))
    if repositories:
        statements += [
            # GetAuthorizationToken has no resource-level permissions: "*" is the only form.
            {"Sid": "EcrAuth", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            {
                "Sid": "EcrPull",
                "Effect": "Allow",
                "Action": _ECR_PULL_ACTIONS,
                "Resource": _one_or_many(repositories),
            },
        ]
    ssm_arns = sorted({a for a in secret_arns if ":ssm:" in a})
    manager_arns = sorted({a for a in secret_arns if ":secretsmanager:" in a})
    if ssm_arns:
        statements.append(
            {"Sid": "SsmSecrets", "Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ssm_arns}
        )
    if manager_arns:
        statements.append(
            {
                "Sid": "SecretsManagerSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": manager_arns,
            }
        )
    if secrets_kms_key_arn is not None:
        statements.append(
            {
                "Sid": "DecryptSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": secrets_kms_key_arn,
            }
        )
    statements.append(
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        }
    )
    return statements


def add_task_roles(
    scope: Construct,
    *,
    execution_role_name: str,
    task_role_name: str,
    statements: list[dict[str, object]],
    trust: str,
) -> TaskRoles:
    """Add ``execution-role``, ``task-role`` and ``execution-policy`` to ``scope``; both roles
    trust what ``trust`` (a policy document, see ``trust_policy``) allows."""
    if execution_role_name == task_role_name:
        raise ValueError("execution_role_name and task_role_name must differ (two roles, two purposes)")
    execution_role = IamRole(scope, "execution-role", name=execution_role_name, assume_role_policy=trust)
    # What the application itself may do in AWS: nothing until the user attaches policies.
    task_role = IamRole(scope, "task-role", name=task_role_name, assume_role_policy=trust)
    policy = IamRolePolicy(
        scope,
        "execution-policy",
        # The name predates secrets; kept, because renaming an inline policy replaces it.
        name="pull-image-and-write-logs",
        role=execution_role.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return TaskRoles(execution_role, task_role, policy)
