"""Finding what AWS has and the state lacks from the synthesized stack (ecs_cd/release/orphans.py), on
moto in-process: rule matching, references through the state or AWS, and the import IDs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from moto import mock_aws

from ecs_cd.release.aws import Aws
from ecs_cd.release.cdktf_output import CdktfOutput
from ecs_cd.release.deploy_failure import failure
from ecs_cd.release.errors import DeployFailed
from ecs_cd.release.layout_move import import_id
from ecs_cd.release.orphan_lookups import rule_key
from ecs_cd.release.orphan_stack import Stack
from ecs_cd.release.orphans import Orphan, scan, state_attributes
from ecs_cd.release.run_result import RunResult
from ecs_cd.release.terraform_commands import TerraformCommand

REGION = "us-east-1"
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
)
SG = "aws_security_group.tasks_SG"
EGRESS = "aws_vpc_security_group_egress_rule.https_E"
INGRESS = "aws_vpc_security_group_ingress_rule.from_lb_I"
NOT_MADE = "aws_vpc_security_group_egress_rule.http_N"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        yield Aws(region=REGION)


def _ref(address: str, attribute: str = "id") -> str:
    return "${" + address + "." + attribute + "}"


def _document(balancer_group: str) -> dict[str, Any]:
    """A stack like the one synthesized for a service: its group, two rules and one more rule."""
    group = {"name": "ok-api-tasks", "description": "tasks", "vpc_id": _ref("data.aws_vpc.default-vpc")}
    rule = {"security_group_id": _ref(SG), "ip_protocol": "tcp"}
    return {
        "data": {"aws_vpc": {"default-vpc": {"default": True}}},
        "resource": {
            "aws_security_group": {"tasks_SG": group},
            "aws_vpc_security_group_egress_rule": {
                "https_E": {**rule, "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"},
                "http_N": {**rule, "from_port": 80, "to_port": 80, "cidr_ipv4": "0.0.0.0/0"},
            },
            "aws_vpc_security_group_ingress_rule": {
                "from_lb_I": {
                    **rule,
                    "ip_protocol": "6",  # a number: EC2 answers "tcp"
                    "from_port": 8080,
                    "to_port": 8080,
                    "referenced_security_group_id": balancer_group,
                }
            },
            "null_resource": {"trigger_T": {"triggers": {"always_run": "${timestamp()}"}}},
        },
    }


def _groups(aws: Aws) -> tuple[str, str, dict[str, str]]:
    """(the tasks' group, the load balancer's group, {what: sgr id}) as a killed apply left them."""
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    balancer = ec2.create_security_group(GroupName="team-alb", Description="alb", VpcId=vpc)["GroupId"]
    other = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="ok-api-tasks", Description="same name", VpcId=other)
    tasks = ec2.create_security_group(GroupName="ok-api-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    egress = ec2.authorize_security_group_egress(
        GroupId=tasks,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    ingress = ec2.authorize_security_group_ingress(
        GroupId=tasks,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": balancer}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    return tasks, balancer, {"egress": egress, "ingress": ingress}


def test_the_group_and_its_rules_are_named_with_their_real_ids(aws: Aws) -> None:
    # GIVEN a group and two of its three rules in AWS (plus the default all-traffic egress), none in the state
    tasks, balancer, rules = _groups(aws)
    # WHEN the stack is scanned
    found = scan("local", _document(balancer), {}, aws)
    # THEN each is named with the ID its import needs; the rule AWS lacks is not named
    assert {o.address: o.import_id for o in found.orphans} == {
        SG: tasks,
        EGRESS: rules["egress"],
        INGRESS: rules["ingress"],
    }
    assert found.unchecked == {}
    egress = next(o for o in found.orphans if o.address == EGRESS)
    assert egress.name == f"{rules['egress']}: tcp 443 to 0.0.0.0/0 in {tasks}"
    assert egress.import_command(Path("/o/stacks")) == (
        f"terraform -chdir=/o/stacks/local import {EGRESS} {rules['egress']}"
    )


def test_a_rule_of_a_group_in_the_state_is_found_through_the_state(aws: Aws) -> None:
    # GIVEN the group in the state (its id there), its rules not
    tasks, balancer, rules = _groups(aws)
    state = {SG: {"id": tasks, "name": "ok-api-tasks"}}
    found = scan("local", _document(balancer), state, aws)
    # THEN only the rules are named, found in the group the state holds
    assert {o.address: o.import_id for o in found.orphans} == {
        EGRESS: rules["egress"],
        INGRESS: rules["ingress"],
    }


def test_nothing_is_named_when_the_group_does_not_exist(aws: Aws) -> None:
    # GIVEN no group of that name: neither it nor its rules can be in AWS
    balancer = aws.client("ec2").create_security_group(GroupName="team-alb", Description="alb")["GroupId"]
    found = scan("local", _document(balancer), {}, aws)
    assert found.orphans == [] and found.unchecked == {}


def test_a_rule_is_its_protocol_ports_and_target_not_its_spelling() -> None:
    assert rule_key("6", 443, 443, ("cidr_ipv4", "0.0.0.0/0")) == rule_key(
        "tcp", "443", "443", ("cidr_ipv4", "0.0.0.0/0")
    )
    assert rule_key("all", None, None, ("cidr_ipv4", "0.0.0.0/0")) == rule_key(
        "-1", -1, -1, ("cidr_ipv4", "0.0.0.0/0")
    )
    assert rule_key("tcp", 443, 443, ("cidr_ipv4", "0.0.0.0/0")) != rule_key(
        "tcp", 443, 443, ("cidr_ipv6", "::/0")
    )
    assert rule_key("tcp", 80, 80, ("cidr_ipv4", "0.0.0.0/0")) != rule_key(
        "tcp", 80, 81, ("cidr_ipv4", "0.0.0.0/0")
    )


def _named_stack() -> dict[str, Any]:
    cluster = "aws_ecs_cluster.cluster_C"
    role = "aws_iam_role.exec_R"
    group = "aws_lb_target_group.tg_T"
    return {
        "data": {"aws_vpc": {"default-vpc": {"default": True}}},
        "resource": {
            "aws_cloudwatch_log_group": {"logs_L": {"name": "/ecs/ok/local/api"}},
            "aws_ecs_cluster": {"cluster_C": {"name": "ok-local"}},
            "aws_ecs_service": {"svc_S": {"name": "api", "cluster": _ref(cluster, "arn")}},
            "aws_iam_role": {
                "exec_R": {"name": "ok-local-api-exec"},
                "task_R": {"name": "ok-local-api-task"},
            },
            "aws_iam_role_policy": {"pol_P": {"name": "pull", "role": _ref(role)}},
            "aws_lb_target_group": {
                "tg_T": {"name": "ok-local-api-1", "port": 8080, "vpc_id": _ref("data.aws_vpc.default-vpc")}
            },
            "aws_ecs_task_definition": {"task_D": {"family": "ok-local-api"}},
            "aws_appautoscaling_target": {
                "target_A": {
                    "resource_id": "service/ok-local/api",
                    "scalable_dimension": "ecs:service:DesiredCount",
                    "service_namespace": "ecs",
                    "depends_on": [_ref(group)],
                }
            },
            "aws_appautoscaling_policy": {
                "cpu_P": {
                    "name": "ok-local-api-cpu",
                    "resource_id": _ref("aws_appautoscaling_target.target_A", "resource_id"),
                    "scalable_dimension": _ref("aws_appautoscaling_target.target_A", "scalable_dimension"),
                    "service_namespace": _ref("aws_appautoscaling_target.target_A", "service_namespace"),
                }
            },
            "aws_wafv2_web_acl": {"acl_W": {"name": "x"}},
        },
    }


def _make_named(aws: Aws) -> dict[str, str]:
    """What a killed apply of _named_stack() left: everything but the task role and the scaling policy."""
    aws.client("logs").create_log_group(logGroupName="/ecs/ok/local/api")
    aws.client("logs").create_log_group(logGroupName="/ecs/ok/local/api-other")
    _service(aws)
    aws.client("iam").create_role(RoleName="ok-local-api-exec", AssumeRolePolicyDocument="{}")
    aws.client("iam").put_role_policy(RoleName="ok-local-api-exec", PolicyName="pull", PolicyDocument=POLICY)
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = aws.client("elbv2").create_target_group(
        Name="ok-local-api-1", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    scaling = aws.client("application-autoscaling")
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/ok-local/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=2,
    )
    return {"target_group": group}


def test_names_give_the_ids_imports_need(aws: Aws) -> None:
    # GIVEN what a killed apply left: a log group, a cluster and service, a role and its policy, a
    # target group, a scalable target
    made = _make_named(aws)
    # WHEN the stack is scanned
    found = scan("local", _named_stack(), {}, aws)
    # THEN each is named with its import ID: name, role:policy, ARN, namespace/resource/dimension
    assert {o.address: o.import_id for o in found.orphans} == {
        "aws_cloudwatch_log_group.logs_L": "/ecs/ok/local/api",
        "aws_ecs_cluster.cluster_C": "ok-local",
        "aws_ecs_service.svc_S": "ok-local/api",
        "aws_iam_role.exec_R": "ok-local-api-exec",
        "aws_iam_role_policy.pol_P": "ok-local-api-exec:pull",
        "aws_lb_target_group.tg_T": made["target_group"],
        "aws_appautoscaling_target.target_A": "ecs/service/ok-local/api/ecs:service:DesiredCount",
    }
    # (the service through its cluster's ARN); a type with no lookup is said not to be checked,
    # never to be absent
    assert found.unchecked == {"aws_wafv2_web_acl.acl_W": "no lookup for aws_wafv2_web_acl"}


def _service(aws: Aws) -> None:
    aws.client("ecs").create_cluster(clusterName="ok-local")
    ec2 = aws.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.create_security_group(GroupName="any", Description="any")["GroupId"]
    aws.client("ecs").create_service(
        cluster="ok-local",
        serviceName="api",
        desiredCount=0,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
    )


def test_a_service_is_named_cluster_slash_name(aws: Aws) -> None:
    _service(aws)
    cluster_arn = aws.client("ecs").describe_clusters(clusters=["ok-local"])["clusters"][0]["clusterArn"]
    # the cluster in the state, the service not
    state = {"aws_ecs_cluster.cluster_C": {"id": cluster_arn, "arn": cluster_arn, "name": "ok-local"}}
    found = scan("local", _named_stack(), state, aws)
    service = next(o for o in found.orphans if o.address == "aws_ecs_service.svc_S")
    assert service.import_id == "ok-local/api"


# ECS's answer to CreateService of a name the cluster has ACTIVE, as the AWS provider and Terraform
# print it (taken from a deploy on the emulator, whose CreateService answers as ECS does).
SERVICE_NOT_IDEMPOTENT = (
    "local  aws_ecs_service.svc_S: Creating...\n"
    "local  \n"
    "local  Error: creating ECS Service (api): operation error ECS: CreateService, https response error "
    "StatusCode: 400, RequestID: 5RxM, InvalidParameterException: Creation of service was not idempotent.\n"
    "local  \n"
    "local    with aws_ecs_service.svc_S,\n"
    "local    on cdk.tf.json line 228, in resource.aws_ecs_service.svc_S:\n"
)


def test_a_service_ecs_refuses_to_create_again_is_named_with_its_import(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    # GIVEN a service a killed apply left in AWS (its cluster in the state), and an apply that failed
    # on it with ECS's "Creation of service was not idempotent."
    _service(aws)
    cluster_arn = aws.client("ecs").describe_clusters(clusters=["ok-local"])["clusters"][0]["clusterArn"]
    document = {
        "resource": {
            "aws_ecs_cluster": {"cluster_C": {"name": "ok-local"}},
            "aws_ecs_service": {
                "svc_S": {"name": "api", "cluster": _ref("aws_ecs_cluster.cluster_C", "arn")}
            },
        }
    }
    stacks_dir = _stack_dir(tmp_path, document)
    run = _failed_run(stacks_dir, SERVICE_NOT_IDEMPOTENT)
    failed = failure("local", run, lock_timeout=0)
    assert failed is not None
    # WHEN the failure is completed from the stack and its state
    cluster = _resource("aws_ecs_cluster.cluster_C", cluster_arn)
    cluster["instances"][0]["attributes"].update({"arn": cluster_arn, "name": "ok-local"})
    state = {"version": 4, "resources": [cluster]}
    terraform = _fake_terraform(tmp_path, state)
    error = named_completely(failed, run, head="deploy local", aws=lambda: aws, terraform=terraform, env={})
    # THEN it says the service is in AWS but not in the state, with the import command that works
    assert str(error).startswith("deploy local: already in AWS but not in the Terraform state: ECS Service ")
    (entry,) = cast(list[dict[str, str]], error.details["already_exists"])
    assert (entry["address"], entry["id"]) == ("aws_ecs_service.svc_S", "ok-local/api")
    assert entry["import"] in str(error)


def test_an_expression_is_unresolved_not_absent(aws: Aws) -> None:
    document = {"resource": {"aws_iam_role": {"r_R": {"name": '${format("%s-x", var.p)}'}}}}
    found = scan("local", document, {}, aws)
    assert found.orphans == [] and list(found.unchecked) == ["aws_iam_role.r_R"]
    assert Stack(document, {}, aws).value("literal") == "literal"


def test_the_state_is_read_by_address_with_data_sources_apart() -> None:
    raw = {
        "version": 4,
        "resources": [
            {
                "mode": "managed",
                "type": "aws_iam_role",
                "name": "r_R",
                "instances": [{"attributes": {"id": "r"}}],
            },
            {"mode": "data", "type": "aws_vpc", "name": "v", "instances": [{"attributes": {"id": "vpc-1"}}]},
            {"module": "module.m", "mode": "managed", "type": "aws_iam_role", "name": "x", "instances": []},
            # As Terraform persists it mid-apply: a resource it was still creating, no instance yet
            {"mode": "managed", "type": "aws_security_group", "name": "sg_S", "instances": []},
        ],
    }
    # THEN a resource is held only with an instance: one being created when a kill came is not
    assert state_attributes(json.dumps(raw)) == {
        "aws_iam_role.r_R": {"id": "r"},
        "data.aws_vpc.v": {"id": "vpc-1"},
    }
    assert state_attributes("") == {}


# --- the failure's message -----------------------------------------------------------------------

ALREADY_EXISTS = (Path(__file__).parents[1] / "fixtures" / "terraform_already_exists.txt").read_text()


def _failed_run(stacks_dir: Path, text: str) -> RunResult:
    output = CdktfOutput(["local"])
    for line in text.splitlines():
        output.feed(line)
    where = stacks_dir / "local"
    commands = [TerraformCommand(where, ("init",)), TerraformCommand(where, ("apply", "-auto-approve"))]
    return RunResult(1, commands, stacks_dir, output)


def _fake_terraform(tmp_path: Path, state: dict[str, Any] | None, code: int = 0) -> str:
    (tmp_path / "state.json").write_text(json.dumps(state) if state is not None else "")
    script = tmp_path / "terraform"
    script.write_text(f"#!/bin/sh\ncat {tmp_path / 'state.json'}\nexit {code}\n")
    script.chmod(0o755)
    return str(script)


def _stack_dir(tmp_path: Path, document: dict[str, Any]) -> Path:
    (tmp_path / "stacks" / "local").mkdir(parents=True)
    (tmp_path / "stacks" / "local" / "cdk.tf.json").write_text(json.dumps(document))
    return tmp_path / "stacks"


def test_the_message_names_every_orphan_not_only_the_one_that_collided(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    # GIVEN an apply that failed on the log group, and a group and rule AWS has that the state lacks
    tasks, balancer, rules = _groups(aws)
    document = _document(balancer)
    document["resource"]["aws_cloudwatch_log_group"] = {
        "api_fargate_logs_E6C6CB1A": {"name": "/ecs/demo/local/api"}
    }
    aws.client("logs").create_log_group(logGroupName="/ecs/demo/local/api")
    stacks_dir = _stack_dir(tmp_path, document)
    run = _failed_run(stacks_dir, ALREADY_EXISTS)
    failed = failure("local", run, lock_timeout=0)
    assert failed is not None
    # WHEN the failure is completed from the stack and its state (the ingress rule is in it)
    state = {"version": 4, "resources": [_resource(INGRESS, rules["ingress"])]}
    error = named_completely(
        failed,
        run,
        head="cdktf deploy local",
        aws=lambda: aws,
        terraform=_fake_terraform(tmp_path, state),
        env={},
    )
    # THEN one line names the log group, the group and its egress rule, each with its import command
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    message = str(error)
    assert message.startswith("cdktf deploy local: already in AWS but not in the Terraform state: ")
    assert "\n" not in message and "If they are this stack's, import them into the state" in message
    entries = cast(list[dict[str, str]], error.details["already_exists"])
    imports = [e["import"] for e in entries]
    assert sorted(e["address"] for e in entries) == sorted(
        [SG, EGRESS, "aws_cloudwatch_log_group.api_fargate_logs_E6C6CB1A"]
    )
    assert all(command in message for command in imports)
    assert f"import {EGRESS} {rules['egress']}" in message and f"import {SG} {tasks}" in message


def _resource(address: str, resource_id: str) -> dict[str, Any]:
    kind, _, name = address.partition(".")
    return {"mode": "managed", "type": kind, "name": name, "instances": [{"attributes": {"id": resource_id}}]}


def test_when_the_state_cannot_be_read_the_message_says_more_may_be_missing(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    stacks_dir = _stack_dir(tmp_path, _document("sg-1"))
    run = _failed_run(stacks_dir, ALREADY_EXISTS)
    failed = failure("local", run, lock_timeout=0)
    assert failed is not None
    error = named_completely(
        failed,
        run,
        head="cdktf deploy local",
        aws=lambda: aws,
        terraform=_fake_terraform(tmp_path, None, 1),
        env={},
    )
    assert str(error).startswith(str(failed))
    assert "more may be missing from the state: looking them up failed: terraform state pull in" in str(error)
    assert error.details["already_exists"] == failed.details["already_exists"]


def test_a_failure_that_met_no_collision_is_left_as_it_is(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    stacks_dir = _stack_dir(tmp_path, _document("sg-1"))
    run = _failed_run(stacks_dir, "local  Error: creating IAM Role (x): AccessDenied\n")
    failed = failure("local", run, lock_timeout=0)
    assert failed is not None
    assert (
        named_completely(
            failed, run, head="cdktf deploy local", aws=lambda: aws, terraform="/nonexistent", env={}
        )
        is failed
    )


def test_a_duplicate_rule_that_names_nothing_still_brings_the_complete_list(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    # GIVEN the group in the state, its egress rule in AWS only, and an apply that failed on the
    # rule with an error that names no resource, wrapped over lines (as Terraform prints the
    # provider's InvalidPermission.Duplicate)
    tasks, balancer, rules = _groups(aws)
    stacks_dir = _stack_dir(tmp_path, _document(balancer))
    run = _failed_run(
        stacks_dir,
        "local  Error: creating VPC Security Group Egress Rule: operation error EC2:\n"
        "local  AuthorizeSecurityGroupEgress, https response error StatusCode: 400, RequestID: 0a1b, api\n"
        "local  error InvalidPermission.Duplicate: the specified rule already exists\n",
    )
    failed = failure("local", run, lock_timeout=0)
    assert failed is not None and "already in AWS" not in str(failed)
    state = {"version": 4, "resources": [_resource(SG, tasks)]}
    terraform = _fake_terraform(tmp_path, state)
    error = named_completely(failed, run, head="deploy local", aws=lambda: aws, terraform=terraform, env={})
    # THEN both rules AWS has are named, with their sgr- IDs
    assert str(error).startswith("deploy local: already in AWS but not in the Terraform state: ")
    assert f"import {EGRESS} {rules['egress']}" in str(error)
    assert f"import {INGRESS} {rules['ingress']}" in str(error)


def test_a_killed_apply_names_what_it_left_and_says_when_nothing_is_left(aws: Aws, tmp_path: Path) -> None:
    from ecs_cd.release.orphans import named_completely

    tasks, balancer, rules = _groups(aws)
    stacks_dir = _stack_dir(tmp_path, _document(balancer))
    run = _failed_run(stacks_dir, "")
    killed = DeployFailed(
        "deploy local: Terraform's apply of local was killed (SIGKILL)", details={"unfinished": ["local"]}
    )
    # GIVEN nothing in the state: the group and both rules are named, after what the failure said
    error = named_completely(
        killed, run, head="deploy local", aws=lambda: aws, terraform=_fake_terraform(tmp_path, {}), env={}
    )
    assert str(error).startswith(
        f"{killed}; in AWS but not in the Terraform state: Security Group ok-api-tasks ({tasks})"
    )
    assert f"import {INGRESS} {rules['ingress']}" in str(error)
    # (and, the group having kept AWS's default egress, ends with the command that revokes it)
    assert str(error).endswith(f"--security-group-rule-ids {_default_egress(aws, tasks)} --region {REGION}")
    # GIVEN all three in the state: it says nothing is left
    state = {
        "version": 4,
        "resources": [_resource(SG, tasks), _resource(EGRESS, "x"), _resource(INGRESS, "y")],
    }
    error = named_completely(
        killed, run, head="deploy local", aws=lambda: aws, terraform=_fake_terraform(tmp_path, state), env={}
    )
    assert str(error) == f"{killed}; AWS has nothing of the stack that the state lacks"


# --- AWS's default egress, left in a group when the apply is killed right after creating it -----


def _default_egress(aws: Aws, group_id: str, cidr: str = "CidrIpv4") -> str:
    rules = aws.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )["SecurityGroupRules"]
    (rule,) = [r for r in rules if r["IsEgress"] and r["IpProtocol"] == "-1" and r.get(cidr)]
    return str(rule["SecurityGroupRuleId"])


def _group_orphan(found: Any) -> Orphan:
    (group,) = [o for o in found.orphans if o.address == SG]
    return cast(Orphan, group)


def _revoke(group_id: str, *rule_ids: str) -> str:
    return (
        f"aws ec2 revoke-security-group-egress --group-id {group_id}"
        f" --security-group-rule-ids {' '.join(rule_ids)} --region {REGION}"
    )


def test_a_group_left_with_the_default_egress_is_named_with_the_command_that_revokes_it(
    aws: Aws, tmp_path: Path
) -> None:
    from ecs_cd.release.orphans import named_completely

    # GIVEN the group as a killed apply left it: AWS's allow-all egress (IPv4, and IPv6 as in a
    # VPC with IPv6) still in it, the stack declaring only its own egress (tcp 443)
    tasks, balancer, rules = _groups(aws)
    aws.client("ec2").authorize_security_group_egress(
        GroupId=tasks, IpPermissions=[{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
    )
    default = (_default_egress(aws, tasks), _default_egress(aws, tasks, "CidrIpv6"))
    # WHEN a killed apply's failure is completed from the stack and its (empty) state
    stacks_dir = _stack_dir(tmp_path, _document(balancer))
    killed = DeployFailed("deploy local: apply killed (SIGKILL)", details={"unfinished": ["local"]})
    error = named_completely(
        killed,
        _failed_run(stacks_dir, ""),
        head="deploy local",
        aws=lambda: aws,
        terraform=_fake_terraform(tmp_path, {}),
        env={},
    )
    # THEN the message says the group kept AWS's default egress, names both rules by their sgr ids,
    # and gives the command that revokes them, after the imports, which are as before
    message = str(error)
    assert "\n" not in message
    assert message.endswith(
        f" import {INGRESS} {rules['ingress']}. Security Group ok-api-tasks ({tasks}) still has the "
        f"allow-all egress AWS gives a new group ({default[0]}, {default[1]}), which the stack does not "
        f"declare and Terraform removes only when it creates the group: revoke them too: "
        + _revoke(tasks, *default)
    )
    # AND the JSON details give them next to the group's import
    entries = cast(list[dict[str, Any]], error.details["already_exists"])
    (group,) = [e for e in entries if e["address"] == SG]
    assert group["default_egress"] == list(default) and group["revoke"] == _revoke(tasks, *default)
    assert all("revoke" not in e for e in entries if e["address"] != SG)
    # AND following the advice converges: once revoked, the group's egress is what the stack declares
    aws.client("ec2").revoke_security_group_egress(GroupId=tasks, SecurityGroupRuleIds=list(default))
    again = _group_orphan(scan("local", _document(balancer), {}, aws))
    assert again.default_egress == () and again.revoke == ""
    assert "revoke" not in again.as_dict(stacks_dir)


def test_the_revoke_command_reaches_the_account_or_emulator_scanned(aws: Aws) -> None:
    from ecs_cd.release.orphan_lookups import revoke_command

    # GIVEN a scan through a profile THEN the command uses that profile
    scanned = Aws(region="eu-west-3", profile="ops team")
    assert revoke_command(scanned, "sg-1", ["sgr-1", "sgr-2"]) == (
        "aws ec2 revoke-security-group-egress --group-id sg-1 --security-group-rule-ids sgr-1 sgr-2"
        " --region eu-west-3 --profile 'ops team'"
    )
    # GIVEN a scan of the emulator THEN the command has the emulator's endpoint and keys (as
    # ecs-release's own clients: a profile is not used there), so it runs as printed
    emulated = Aws(region="eu-west-3", profile="ops team", endpoint="http://127.0.0.1:4566")
    assert revoke_command(emulated, "sg-1", ["sgr-1"]) == (
        "env AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator aws ec2 revoke-security-group-egress"
        " --group-id sg-1 --security-group-rule-ids sgr-1 --region eu-west-3"
        " --endpoint-url http://127.0.0.1:4566"
    )


def test_no_revoke_when_the_default_egress_is_gone(aws: Aws) -> None:
    # GIVEN the group with its default egress already revoked (the provider got that far)
    tasks, balancer, _ = _groups(aws)
    aws.client("ec2").revoke_security_group_egress(
        GroupId=tasks, SecurityGroupRuleIds=[_default_egress(aws, tasks)]
    )
    # THEN the group is named to import, with nothing to revoke
    group = _group_orphan(scan("local", _document(balancer), {}, aws))
    assert group.import_id == tasks and group.default_egress == () and group.revoke == ""


def test_no_revoke_when_the_stack_declares_all_traffic_egress_for_the_group(aws: Aws) -> None:
    # GIVEN a stack that declares all-traffic egress to 0.0.0.0/0 for the group itself
    tasks, balancer, _ = _groups(aws)
    document = _document(balancer)
    everywhere = {"security_group_id": _ref(SG), "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}
    document["resource"]["aws_vpc_security_group_egress_rule"]["all_A"] = everywhere
    found = scan("local", document, {}, aws)
    # THEN nothing is to be revoked: the default rule is that rule, named to import instead
    assert _group_orphan(found).revoke == "" and _group_orphan(found).default_egress == ()
    imports = {o.address: o.import_id for o in found.orphans}
    assert imports["aws_vpc_security_group_egress_rule.all_A"] == _default_egress(aws, tasks)


def test_all_traffic_egress_of_another_group_or_port_does_not_count(aws: Aws) -> None:
    # GIVEN all-traffic egress declared for another group, and all-traffic IPv4 egress for this one
    # to a narrower cidr: neither is the rule AWS gave the group
    tasks, balancer, _ = _groups(aws)
    document = _document(balancer)
    rules = document["resource"]["aws_vpc_security_group_egress_rule"]
    rules["other_O"] = {"security_group_id": balancer, "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}
    rules["vpc_V"] = {"security_group_id": _ref(SG), "ip_protocol": "-1", "cidr_ipv4": "10.0.0.0/8"}
    group = _group_orphan(scan("local", document, {}, aws))
    assert group.revoke == _revoke(tasks, _default_egress(aws, tasks))


def test_no_revoke_when_the_group_configures_its_own_egress(aws: Aws) -> None:
    # GIVEN a group whose egress is configured on the group itself: Terraform sets all of it
    _, balancer, _ = _groups(aws)
    document = _document(balancer)
    document["resource"]["aws_security_group"]["tasks_SG"]["egress"] = []
    assert _group_orphan(scan("local", document, {}, aws)).revoke == ""


def test_a_queue_workers_queues_and_alarm_left_by_a_killed_apply_are_named(aws: Aws) -> None:
    # GIVEN a queue worker's queue (its redrive policy naming its dead-letter queue) and alarm in
    # AWS, none in the state, and the dead-letter queue not made yet
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="jobs-local-worker")["QueueUrl"]
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="jobs-local-worker-queue-waiting",
        MetricName="ApproximateNumberOfMessagesVisible",
        Namespace="AWS/SQS",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    document = {
        "resource": {
            "aws_sqs_queue": {
                "queue_Q": {
                    "name": "jobs-local-worker",
                    "redrive_policy": _ref("aws_sqs_queue.dead_D", "arn"),
                },
                "dead_D": {"name": "jobs-local-worker-dlq"},
            },
            "aws_cloudwatch_metric_alarm": {"waiting_W": {"alarm_name": "jobs-local-worker-queue-waiting"}},
        }
    }
    # WHEN the stack is scanned
    found = scan("local", document, {}, aws)
    # THEN the queue is named by its URL (its import id), the alarm by its name; the missing one is not
    assert {o.address: o.import_id for o in found.orphans} == {
        "aws_sqs_queue.queue_Q": url,
        "aws_cloudwatch_metric_alarm.waiting_W": "jobs-local-worker-queue-waiting",
    }
    # AND a layout move imports them by the same ids
    assert import_id("aws_sqs_queue", {"id": url}) == url
    assert import_id("aws_cloudwatch_metric_alarm", {"alarm_name": "a"}) == "a"


def test_a_service_connect_namespace_and_the_groups_split_stacks_look_up_are_found(aws: Aws) -> None:
    # GIVEN what a killed apply of an environment with Service Connect left: its namespace, and a
    # split service stack's rule on the environment's callers' group (looked up by name)
    cloud_map, ec2 = aws.client("servicediscovery"), aws.client("ec2")
    operation = cloud_map.create_http_namespace(Name="ok-local")["OperationId"]
    namespace_id = cloud_map.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    callers = ec2.create_security_group(GroupName="ok-local-service-connect", Description="c", VpcId=vpc)[
        "GroupId"
    ]
    rule = ec2.authorize_security_group_egress(
        GroupId=callers,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    document = {
        "data": {
            "aws_vpc": {"default-vpc": {"default": True}},
            "aws_security_group": {
                "callers": {"name": "ok-local-service-connect", "vpc_id": _ref("data.aws_vpc.default-vpc")}
            },
        },
        "resource": {
            "aws_service_discovery_http_namespace": {"ns_N": {"name": "ok-local"}},
            "aws_vpc_security_group_egress_rule": {
                "out_O": {
                    "security_group_id": _ref("data.aws_security_group.callers"),
                    "ip_protocol": "tcp",
                    "from_port": 8080,
                    "to_port": 8080,
                    "cidr_ipv4": "10.0.0.0/8",
                }
            },
        },
    }
    # WHEN the stack is scanned with nothing in its state
    found = scan("local", document, {}, aws)
    # THEN the namespace is named by its id (its import id), the rule by its sgr id
    assert {o.address: o.import_id for o in found.orphans} == {
        "aws_service_discovery_http_namespace.ns_N": namespace_id,
        "aws_vpc_security_group_egress_rule.out_O": rule,
    }
    assert found.unchecked == {}


def test_a_jobs_schedule_left_by_a_killed_apply_is_named_group_slash_name(aws: Aws) -> None:
    # GIVEN a job's schedule that AWS has and the state lacks, and one that was never made
    aws.client("scheduler").create_schedule(
        Name="ok-local-report",
        ScheduleExpression="cron(0 3 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/ok-local",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    )
    stack = {
        "resource": {
            "aws_scheduler_schedule": {
                "made_S": {"name": "ok-local-report", "group_name": "default"},
                "never_S": {"name": "ok-local-other", "group_name": "default"},
            }
        }
    }
    # WHEN the stack is scanned THEN the one AWS has is named with its import id, the other is absent
    found = scan("local", stack, {}, aws)
    assert {o.address: o.import_id for o in found.orphans} == {
        "aws_scheduler_schedule.made_S": "default/ok-local-report"
    }
    assert found.unchecked == {}
