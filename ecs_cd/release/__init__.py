"""The pipeline half: write, promote and roll back image tags in SSM, deploy, and watch
rollouts until ECS says how they ended. Reads the same configuration and derives every
name through the same ``ecs_cd.core.names`` as the stacks."""
