"""The benchmark's floors import exactly the provider submodules the stacks use."""

from __future__ import annotations

import re
from pathlib import Path

from bench.synth import USED_SUBMODULES, generated_config
from stacks.settings import settings_from_dict

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_floor_imports_what_the_stacks_import() -> None:
    used = set()
    for folder in ("constructs_lib", "stacks"):
        for path in (PROJECT_DIR / folder).glob("*.py"):
            used |= set(re.findall(r"from cdktf_cdktf_provider_aws\.(\w+) import", path.read_text()))
    assert used == set(USED_SUBMODULES)


def test_generated_configurations_are_valid() -> None:
    import tomllib

    for services in (1, 5, 20):
        settings = settings_from_dict(tomllib.loads(generated_config(services)), file="bench")
        assert sorted(settings.environments) == ["dev", "local", "prod", "staging"]
        assert all(len(env.services) == services for env in settings.environments.values())


def test_the_split_benchmark_compares_the_same_services_split_and_not() -> None:
    import tomllib

    from bench.split import config

    single, split = (
        settings_from_dict(tomllib.loads(config(20, flag)), file="bench").environments["local"]
        for flag in (False, True)
    )
    assert (single.stack_per_service, split.stack_per_service) == (False, True)
    assert [s.name for s in single.services] == [s.name for s in split.services]
    assert len(split.services) == 20


def test_the_ci_benchmark_deploys_the_shipped_configuration_with_its_local_state_in_s3() -> None:
    import tomllib

    from bench.ci import BUCKET, remote_state_config

    shipped = (PROJECT_DIR / "config" / "ecs-cd.toml").read_text()
    changed = settings_from_dict(tomllib.loads(remote_state_config(shipped)), file="bench")
    original = settings_from_dict(tomllib.loads(shipped), file="config/ecs-cd.toml")
    state = changed.environments["local"].state
    assert (state.backend, getattr(state, "bucket", None)) == ("s3", BUCKET)
    assert changed.environments["local"].services == original.environments["local"].services
