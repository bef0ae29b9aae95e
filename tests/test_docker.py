"""The Docker deployment files: parsed and checked (no Docker engine runs in tests)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.modelfile import load_modelfile, shipped_modelfiles

DOCKER = Path(__file__).resolve().parents[1] / "docker"
COMPOSE_FILES = ("compose.rocm.yaml", "compose.nvidia.yaml")
_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` substitution, with an empty environment by default."""
    env = env or {}
    return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DOCKER / name).read_text())


def service(name: str) -> dict[str, Any]:
    data = load(name)
    assert list(data["services"]) == ["ollama"]
    return data["services"]["ollama"]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_both_roles_stay_loaded(name: str) -> None:
    env = service(name)["environment"]
    assert interpolate(env["OLLAMA_MAX_LOADED_MODELS"]) == "2"
    assert interpolate(env["OLLAMA_KEEP_ALIVE"]) == "-1"
    assert interpolate(env["OLLAMA_NUM_PARALLEL"]) == "1"
    assert interpolate(env["OLLAMA_HOST"]) == "0.0.0.0:11434"  # inside the container; published on loopback
    text = (DOCKER / name).read_text()
    assert "KV cache" in text and "32k" in text  # NUM_PARALLEL explained against the 32k window


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_port_on_loopback_by_default(name: str) -> None:
    ports = [interpolate(p) for p in service(name)["ports"]]
    assert ports == ["127.0.0.1:11434:11434"]
    assert [interpolate(p, {"OLLAMA_BIND": "0.0.0.0"}) for p in service(name)["ports"]] == [
        "0.0.0.0:11434:11434"
    ]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_models_volume(name: str) -> None:
    data = load(name)
    volumes = data["services"]["ollama"]["volumes"]
    assert "ollama-models:/root/.ollama" in volumes
    assert "ollama-models" in data["volumes"]
    modelfiles = next(v for v in volumes if v.endswith(":/modelfiles:ro"))
    assert (DOCKER / modelfiles.split(":")[0]).resolve() == shipped_modelfiles()[0].parent.resolve()


def test_rocm_devices_group_and_gfx906() -> None:
    svc = service("compose.rocm.yaml")
    assert interpolate(svc["image"]) == "ollama/ollama:rocm"
    assert {d.split(":")[0] for d in svc["devices"]} == {"/dev/kfd", "/dev/dri"}
    assert "video" in svc["group_add"]
    text = (DOCKER / "compose.rocm.yaml").read_text()
    assert "HSA_OVERRIDE_GFX_VERSION" in text and "gfx906" in text and "9.0.6" in text
    # Documented, not forced: an empty value must not reach ROCm.
    assert "HSA_OVERRIDE_GFX_VERSION" not in svc["environment"]


def test_nvidia_device_reservation() -> None:
    svc = service("compose.nvidia.yaml")
    assert interpolate(svc["image"]).startswith("ollama/ollama:")
    devices = svc["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    assert "devices" not in svc


def test_every_variable_has_a_default_or_an_example() -> None:
    example = {
        line.split("=", 1)[0].lstrip("#")
        for line in (DOCKER / "env.example").read_text().splitlines()
        if "=" in line and not line.startswith("# ")
    }
    for name in COMPOSE_FILES:
        for m in _VAR.finditer((DOCKER / name).read_text()):
            assert m.group(2) is not None or m.group(1) in example, (
                f"{name}: ${{{m.group(1)}}} has no default"
            )
    assert {"OLLAMA_BIND", "OLLAMA_KEEP_ALIVE", "OLLAMA_NUM_PARALLEL"} <= example


def test_readme_walks_from_bare_host_to_review() -> None:
    readme = (DOCKER / "README.md").read_text()
    steps = [
        "docker compose -f compose.rocm.yaml up -d",
        "cp env.example .env",
        "assist models setup",
        "assist doctor",
        "assist review .",
    ]
    # Each step as a command line of a code block, in this order.
    lines = [line.strip() for line in readme.splitlines()]
    positions = [next(i for i, line in enumerate(lines) if line.startswith(step)) for step in steps]
    assert positions[0] < positions[2] < positions[3] < positions[4]
    # The pulls it tells you to run are exactly the bases of the shipped role Modelfiles.
    for path in shipped_modelfiles():
        mf = load_modelfile(path)
        if mf.role:
            assert f"ollama pull {mf.from_}" in readme, path.name
    assert "HSA_OVERRIDE_GFX_VERSION" in readme and "gfx906" in readme
    assert "-f compose.nvidia.yaml" in readme
