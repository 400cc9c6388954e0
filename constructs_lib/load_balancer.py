"""Load balancing: an Application Load Balancer per environment, a target group and rule per service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHostHeader,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from constructs_lib.checks import skip_check
from constructs_lib.load_balancer_props import DEFAULT_SSL_POLICY, ApplicationLoadBalancerProps
from constructs_lib.service_props import ListenerRule
from ecs_cd.core.aws_formats import validate_listener_arn

__all__ = [
    "DEFAULT_SSL_POLICY",
    "ApplicationLoadBalancer",
    "ApplicationLoadBalancerProps",
    "ListenerAttachment",
    "ServiceTarget",
]


@dataclass(frozen=True)
class ListenerAttachment:
    """Where a service receives traffic: ``rule`` on ``listener_arn``, forwarding to the
    service's target group ``target_group_name``.

    ``source_security_group_id`` is the load balancer's security group: the tasks admit
    only it, on the target port. ``open_source_egress`` (default False): True when that
    group is ours (created with the load balancer), so the service opens its egress to
    the tasks; an existing load balancer's group is left alone."""

    listener_arn: str
    source_security_group_id: str
    target_group_name: str
    rule: ListenerRule
    open_source_egress: bool = False

    def __post_init__(self) -> None:
        # A token (from a load balancer created in the same stack) is checked by Terraform.
        if not self.listener_arn.startswith("${"):
            validate_listener_arn(self.listener_arn)
        if not 1 <= len(self.target_group_name) <= 32:
            raise ValueError("ListenerAttachment.target_group_name must be 1-32 characters")


class ServiceTarget(Construct):
    """A target group of the service's tasks and the listener rule that forwards to it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        attachment: ListenerAttachment,
        vpc_id: str,
        port: int,
        target_type: Literal["ip", "instance"] = "ip",
    ) -> None:
        """``attachment``: listener, rule and health check; ``vpc_id``: the tasks' VPC;
        ``port``: the container port (no default); ``target_type`` (default ``ip``, awsvpc
        tasks; ``instance`` for bridge and host networking, where ECS registers the instance
        and the task's host port)."""
        super().__init__(scope, id_)
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be 1-65535, got {port}")
        self._target_group = LbTargetGroup(
            self,
            "target-group",
            name=attachment.target_group_name,
            target_type=target_type,
            port=port,
            protocol="HTTP",
            vpc_id=vpc_id,
            deregistration_delay=str(attachment.rule.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=attachment.rule.health_check_path, matcher="200-399", protocol="HTTP"
            ),
        )
        conditions = []
        if attachment.rule.path_patterns:
            conditions.append(
                LbListenerRuleCondition(
                    path_pattern=LbListenerRuleConditionPathPattern(
                        values=list(attachment.rule.path_patterns)
                    )
                )
            )
        if attachment.rule.host_headers:
            conditions.append(
                LbListenerRuleCondition(
                    host_header=LbListenerRuleConditionHostHeader(values=list(attachment.rule.host_headers))
                )
            )
        skip_check(
            self._target_group,
            "CKV_AWS_378",
            "TLS ends at the load balancer; it reaches the tasks in HTTP inside the VPC, and the "
            "tasks' security group admits only the load balancer, on the container port",
        )
        self._rule = LbListenerRule(
            self,
            "rule",
            listener_arn=attachment.listener_arn,
            priority=attachment.rule.priority,
            condition=conditions,
            action=[LbListenerRuleAction(type="forward", target_group_arn=self._target_group.arn)],
        )

    @property
    def target_group(self) -> LbTargetGroup:
        """The ``aws_lb_target_group`` (target type ip)."""
        return self._target_group

    @property
    def rule(self) -> LbListenerRule:
        """The ``aws_lb_listener_rule``."""
        return self._rule


def _not_found() -> LbListenerDefaultAction:
    """What a listener answers to a request no service's rule takes."""
    return LbListenerDefaultAction(
        type="fixed-response",
        fixed_response=LbListenerDefaultActionFixedResponse(
            content_type="text/plain", status_code="404", message_body="not found"
        ),
    )


class ApplicationLoadBalancer(Construct):
    """An ALB with its own security group: HTTPS (and an HTTP redirect) with a certificate, else HTTP."""

    def __init__(self, scope: Construct, id_: str, *, props: ApplicationLoadBalancerProps) -> None:
        """``props``: its names, network, clients, listener and options (``ApplicationLoadBalancerProps``)."""
        super().__init__(scope, id_)
        self._props = props
        self._security_group = self._add_security_group()
        self._lb = self._add_load_balancer()
        self._associate_web_acl()
        self._listener = self._add_https_listeners() if props.https else self._add_http_listener()

    def _add_security_group(self) -> SecurityGroup:
        """The load balancer's group, admitting the clients on its listeners' ports."""
        props = self._props
        https = props.https
        group = SecurityGroup(
            self,
            "security-group",
            name=props.security_group_name,
            description=f"Load balancer {props.name}: {'HTTPS' if https else 'HTTP'} from clients",
            vpc_id=props.vpc_id,
        )
        for listen_port in (443, 80) if https else (80,):
            for index, cidr in enumerate(props.ingress_cidr_blocks):
                rule = VpcSecurityGroupIngressRule(
                    self,
                    f"ingress-{listen_port}-{index}",
                    security_group_id=group.id,
                    description=f"clients on port {listen_port}",
                    ip_protocol="tcp",
                    from_port=listen_port,
                    to_port=listen_port,
                    cidr_ipv4=cidr,
                )
                if https and listen_port == 80:
                    skip_check(
                        rule,
                        "CKV_AWS_260",
                        "port 80 only answers a 301 redirect to HTTPS (the listener has no other action)",
                    )
        return group

    def _add_load_balancer(self) -> Lb:
        props = self._props
        lb = Lb(
            self,
            "lb",
            name=props.name,
            internal=props.internal,
            load_balancer_type="application",
            security_groups=[self._security_group.id],
            subnets=list(props.subnets),
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            access_logs=LbAccessLogs(bucket=props.access_logs_bucket, enabled=True, prefix=props.name)
            if props.access_logs_bucket is not None
            else None,
        )
        if not props.deletion_protection:
            skip_check(
                lb,
                "CKV_AWS_150",
                "deletion_protection = false in this environment's config (an environment that is "
                "destroyed and recreated, e.g. on the emulator)",
            )
        if props.access_logs_bucket is None:
            skip_check(
                lb,
                "CKV_AWS_91",
                "no access_logs_bucket configured: set one (with the ELB log delivery bucket policy) "
                "to keep access logs",
            )
        return lb

    def _associate_web_acl(self) -> None:
        """``waf``, with ``web_acl_arn``; without one, an internet-facing load balancer says why."""
        props = self._props
        if props.web_acl_arn is not None:
            Wafv2WebAclAssociation(self, "waf", resource_arn=self._lb.arn, web_acl_arn=props.web_acl_arn)
            skip_check(
                self._lb,
                "CKV2_AWS_76",
                "the web ACL (web_acl_arn) is managed outside this stack, so its rules (such as the "
                "Log4j managed rule group) are checked where it is defined",
            )
        elif not props.internal:
            skip_check(
                self._lb,
                "CKV2_AWS_28",
                "no web_acl_arn configured: web ACLs are usually managed per account; set web_acl_arn "
                "to associate one with this load balancer",
            )

    def _add_https_listeners(self) -> LbListener:
        """The HTTPS ``listener`` (the one services attach to) and ``http-redirect`` on port 80."""
        props = self._props
        listener = LbListener(
            self,
            "listener",
            load_balancer_arn=self._lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=props.ssl_policy,
            certificate_arn=props.certificate_arn,
            default_action=[_not_found()],
        )
        LbListener(
            self,
            "http-redirect",
            load_balancer_arn=self._lb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        port="443", protocol="HTTPS", status_code="HTTP_301"
                    ),
                )
            ],
        )
        return listener

    def _add_http_listener(self) -> LbListener:
        """Plain HTTP, which the props allow only on an internal load balancer."""
        listener = LbListener(
            self,
            "listener",
            load_balancer_arn=self._lb.arn,
            port=80,
            protocol="HTTP",
            default_action=[_not_found()],
        )
        reason = (
            "internal load balancer without certificate_arn: plain HTTP inside the VPC only "
            "(the config refuses internet-facing HTTP); set certificate_arn for HTTPS"
        )
        skip_check(listener, "CKV_AWS_2", reason)
        skip_check(listener, "CKV_AWS_103", reason)
        skip_check(self._lb, "CKV2_AWS_20", reason)
        return listener

    @property
    def props(self) -> ApplicationLoadBalancerProps:
        """The props it was built from."""
        return self._props

    @property
    def lb(self) -> Lb:
        """The ``aws_lb``."""
        return self._lb

    @property
    def listener(self) -> LbListener:
        """The listener services attach their rules to (HTTPS with a certificate, else HTTP)."""
        return self._listener

    @property
    def security_group(self) -> SecurityGroup:
        """The load balancer's security group (the tasks admit only this group)."""
        return self._security_group
