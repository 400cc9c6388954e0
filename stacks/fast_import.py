"""Import only the parts of the provider bindings a stack uses.

``cdktf_cdktf_provider_aws/__init__.py`` imports all ~2,100 of its submodules (about 13 s
per process) although a stack uses a dozen. ``enable()`` registers the package without
running that ``__init__``, loads its jsii assembly (``_jsii``, which the stock path loads
too) and leaves each submodule to be imported when first used. The synthesized JSON is the
same either way; the tests prove it byte for byte.

Types the jsii kernel hands back from a submodule nobody imported are imported on demand:
the jsii runtime (>= 1.1xx) looks up a type's submodule in ``_submodule_fqn_map`` and
imports it, and ``enable()`` fills that map for the package (the bindings predate it).
Without the map the runtime would raise ``ValueError: Unknown type: …``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any

AWS_PACKAGE = "cdktf_cdktf_provider_aws"


def submodule_fqn(assembly: str, module_dir: str) -> str:
    """jsii's submodule FQN for a generated Python submodule directory.

    jsii-pacmak names ``@cdktf/provider-aws.ecsService`` ``ecs_service``; the reverse is
    camelCase. A test checks this against every submodule's own jsii_type strings.
    """
    first, *rest = module_dir.split("_")
    return f"{assembly}.{first}{''.join(part[:1].upper() + part[1:] for part in rest)}"


def enable(package: str = AWS_PACKAGE) -> bool:
    """Register ``package`` lazily; False if it was already imported (nothing to gain)."""
    if package in sys.modules:
        return False
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{package} is not installed: run `pipenv install --dev`")
    module = importlib.util.module_from_spec(spec)
    search = list(spec.submodule_search_locations)

    def __getattr__(name: str) -> Any:  # PEP 562: `package.submodule` imports it on first use
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[package] = module
    try:
        jsii_module = importlib.import_module(f"{package}._jsii")
    except BaseException:
        del sys.modules[package]
        raise
    assembly = jsii_module.__jsii_assembly__.name
    from jsii import _reference_map

    fqn_map = _reference_map._submodule_fqn_map
    for root in search:
        for entry in os.scandir(root):
            if entry.is_dir() and not entry.name.startswith("_"):
                fqn_map.setdefault(submodule_fqn(assembly, entry.name), f"{package}.{entry.name}")
    return True


def is_lazy(package: str = AWS_PACKAGE) -> bool:
    """True when ``package`` was registered by ``enable()`` (its ``__init__`` never ran)."""
    module = sys.modules.get(package)
    if not isinstance(module, types.ModuleType):
        return False
    return "__getattr__" in vars(module) and "__all__" not in vars(module)
