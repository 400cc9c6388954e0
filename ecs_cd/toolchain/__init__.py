"""What the product needs to run cdktf and Terraform, shared by ``ecs_cd/release/`` (``ecs-release deploy``)
and ``devkit/`` (demo, tests, benchmarks): the cdktf CLI runner (``cdktf_cli``), the Terraform
CLI configuration for machines without the Terraform registry (``terraform_offline``) and the
one error type these raise (``errors.ToolError``).

Nothing here imports ``devkit``, ``stacks`` or the provider bindings: ``ecs_cd/release/`` stays fast to
import and free of the developer kit."""
