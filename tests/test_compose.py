"""The production recipe cannot run here: check docker-compose.yml against what the code reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from api.cli import build_parser
from api.routes_ingest import router
from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SOHOA_SERVICES = ("api", "worker", "watcher")
SWITCHES = ("SOHOA_DATABASE_URL", "SOHOA_STORAGE_URL", "SOHOA_BROKER_URL")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def resolve(value: str) -> str:
    """`${VAR:?msg}` / `${VAR:-default}` as compose would, with placeholders for secrets."""
    return re.sub(r"\$\{(\w+)(?::[-?]([^}]*))?\}", lambda m: f"X{m.group(1)}X", value)


def test_services_and_volumes(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"minio", "minio-init", "redis", "postgres", *SOHOA_SERVICES}
    for name, svc in services.items():
        if name != "minio-init":
            assert "healthcheck" in svc, f"{name} has no healthcheck"
            assert svc.get("restart") == "unless-stopped"
    declared = set(compose["volumes"])
    for name, svc in services.items():
        for vol in svc.get("volumes", []):
            source = vol.split(":", 1)[0]
            assert source in declared, f"{name}: volume {source} not declared"
    for name in ("minio", "redis", "postgres"):
        assert services[name].get("volumes"), f"{name} keeps its data in a volume"


def test_every_sohoa_variable_is_a_setting(compose: dict) -> None:
    fields = {f"SOHOA_{name.upper()}" for name in Settings.model_fields}
    for name in SOHOA_SERVICES:
        for var in env_of(compose["services"][name]):
            if var.startswith("SOHOA_"):
                assert var in fields, f"{name}: {var} is read by nothing"


def test_three_variables_switch_every_sohoa_service_to_distributed(compose: dict) -> None:
    services = compose["services"]
    envs = {name: env_of(services[name]) for name in SOHOA_SERVICES}
    for var in SWITCHES:
        values = {env.get(var) for env in envs.values()}
        assert len(values) == 1 and None not in values, f"{var} differs or is missing: {values}"
    env = envs["api"]
    settings = Settings(
        database_url=resolve(env["SOHOA_DATABASE_URL"]),
        storage_url=resolve(env["SOHOA_STORAGE_URL"]),
        broker_url=resolve(env["SOHOA_BROKER_URL"]),
    )
    db, store, broker = (urlparse(u) for u in (settings.db_url, settings.objects_url,
                                               settings.broker_url or ""))  # fmt: skip
    assert db.scheme == "postgresql+psycopg" and db.hostname == "postgres"
    assert db.path.lstrip("/") == services["postgres"]["environment"]["POSTGRES_DB"]
    assert store.scheme == "s3"
    endpoint = parse_qs(store.query)["endpoint"][0]
    assert endpoint.split(":")[0] == "minio"
    assert broker.scheme == "redis" and broker.hostname == "redis"
    for name in SOHOA_SERVICES:
        assert envs[name].get("OMP_THREAD_LIMIT") == "1"
        assert envs[name].get("AWS_ACCESS_KEY_ID") and envs[name].get("AWS_SECRET_ACCESS_KEY")


def test_commands_are_real_subcommands(compose: dict) -> None:
    parser = build_parser()
    expected = {"api": "serve", "worker": "worker", "watcher": "watch"}
    for name, sub in expected.items():
        cmd = compose["services"][name]["command"]
        assert cmd[0] == "sohoa"
        args = parser.parse_args(cmd[1:])
        assert args.command == sub
    assert compose["services"]["worker"]["environment"]["SOHOA_PAGE_WORKERS"] == "1"
    assert compose["services"]["api"]["environment"]["SOHOA_WATCH"] == "false"


def test_broker_persists_and_minio_notifies_the_webhook(compose: dict) -> None:
    services = compose["services"]
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    minio = services["minio"]
    assert not minio["image"].endswith(":latest")
    assert "RELEASE." in minio["image"] or "@sha256:" in minio["image"]
    menv = env_of(minio)
    endpoint = urlparse(menv["MINIO_NOTIFY_WEBHOOK_ENDPOINT_SOHOA"])
    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    assert endpoint.hostname == "api" and endpoint.path in paths
    assert endpoint.port == int(env_of(services["api"])["SOHOA_PORT"])
    token = menv["MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_SOHOA"]
    assert token == env_of(services["api"])["SOHOA_INGEST_TOKEN"]
    inbox = urlparse(env_of(services["watcher"])["SOHOA_INBOX_BUCKET_URL"]).hostname
    init = " ".join(services["minio-init"]["command"])
    assert f"local/{inbox}" in init and "mc event add" in init and "SOHOA:webhook" in init
    store_bucket = urlparse(env_of(services["api"])["SOHOA_STORAGE_URL"]).hostname
    assert f"local/{store_bucket}" in init


def test_dockerfile_ships_every_package() -> None:
    docker = (ROOT / "Dockerfile").read_text()
    for pkg in ("ingest", "ocr", "classify", "storage", "api", "models"):
        assert re.search(rf"^COPY {pkg} {pkg}$", docker, re.M), f"Dockerfile misses {pkg}/"
    assert re.search(r"^RUN pip install --no-cache-dir \.$", docker, re.M)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for client in ("celery", "minio", "psycopg"):  # distributed mode ships in the image
        assert any(d.startswith(client) for d in deps), client
    assert "OMP_THREAD_LIMIT=1" in docker
