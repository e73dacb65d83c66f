"""Settings load from the environment; bad values fail with the documented messages."""

import pytest

from ppm_resources.notion.ids import normalize_id as normalize_notion_id
from ppm_resources.settings import SettingsError, load_settings

ALL_PREFIXES = ("PPM_", "NOTION_", "DATABRICKS_", "AZURE_", "UNIFI_", "NINJAONE_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(ALL_PREFIXES):
            monkeypatch.delenv(name)


def load(monkeypatch, **variables: str):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return load_settings(env_file=None)


def test_defaults_point_every_source_at_the_sandbox(monkeypatch):
    settings = load(monkeypatch)
    assert settings.ppm.env == "local"
    assert settings.notion_uses_sandbox
    assert settings.notion_base_url == "http://127.0.0.1:8765/notion"
    assert settings.notion.api_version == "2022-06-28"


def test_real_notion_when_a_token_and_ids_are_given(monkeypatch):
    settings = load(
        monkeypatch,
        NOTION_TOKEN="ntn_realtoken",
        NOTION_PROGRAMS_DB_ID="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
        NOTION_PROJECTS_DB_ID="1A2B3C4D-5E6F-47A8-B9C0-D1E2F3A4B5C7",
        NOTION_BUDGET_LINES_DB_ID="https://www.notion.so/acme/Budget-Lines-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c8?v=1",
        NOTION_RISKS_DB_ID="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c9",
        NOTION_ACTIONS_DB_ID="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5ca",
    )
    assert not settings.notion_uses_sandbox
    assert settings.notion_base_url == "https://api.notion.com"
    assert settings.notion_database_ids["projects"] == "1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c7"
    assert settings.notion_database_ids["budget_lines"] == "1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c8"


def test_a_notion_id_that_is_not_a_uuid_names_the_variable_and_the_form(monkeypatch):
    with pytest.raises(SettingsError) as error:
        load(monkeypatch, NOTION_PROJECTS_DB_ID="projects-db")
    assert (
        "NOTION_PROJECTS_DB_ID='projects-db': is not a Notion id: expected a UUID of 32 hexadecimal digits, "
        "with or without dashes" in str(error.value)
    )


def test_every_bad_variable_is_reported_at_once(monkeypatch):
    with pytest.raises(SettingsError) as error:
        load(
            monkeypatch,
            PPM_ENV="prod",
            PPM_SANDBOX_URL="localhost:8765",
            NOTION_API_VERSION="2024-01-01",
            NOTION_RATE_LIMIT_RPS="0",
            AZURE_SUBSCRIPTION_IDS="00000000-0000-0000-0000-000000000001,nope",
        )
    message = str(error.value)
    assert "PPM_ENV='prod': Input should be 'local' or 'databricks'" in message
    assert "PPM_SANDBOX_URL='localhost:8765': is not an http(s) URL" in message
    assert "NOTION_API_VERSION='2024-01-01': Input should be '2022-06-28' or '2025-09-03'" in message
    assert "NOTION_RATE_LIMIT_RPS='0': Input should be greater than 0" in message
    assert "AZURE_SUBSCRIPTION_IDS" in message and "'nope', which is not a subscription id" in message


def test_secret_values_are_never_echoed(monkeypatch):
    with pytest.raises(SettingsError) as error:
        load(
            monkeypatch, PPM_ENV="databricks", DATABRICKS_TOKEN="dapi-very-secret", DATABRICKS_HOST="ftp://x"
        )
    assert "DATABRICKS_HOST='ftp://x'" in str(error.value)
    assert "dapi-very-secret" not in str(error.value)


def test_secrets_are_hidden_in_reprs(monkeypatch):
    settings = load(
        monkeypatch,
        NOTION_TOKEN="ntn_hidden",
        NOTION_PROGRAMS_DB_ID="1" * 32,
        NOTION_PROJECTS_DB_ID="2" * 32,
        NOTION_BUDGET_LINES_DB_ID="3" * 32,
        NOTION_RISKS_DB_ID="4" * 32,
        NOTION_ACTIONS_DB_ID="5" * 32,
    )
    assert "ntn_hidden" not in repr(settings) and "ntn_hidden" not in str(settings)


def test_a_real_token_needs_every_database_id(monkeypatch):
    with pytest.raises(SettingsError) as error:
        load(monkeypatch, NOTION_TOKEN="ntn_x", NOTION_PROJECTS_DB_ID="2" * 32)
    assert (
        "NOTION_TOKEN is set (real Notion) but NOTION_PROGRAMS_DB_ID, NOTION_BUDGET_LINES_DB_ID, "
        "NOTION_RISKS_DB_ID, NOTION_ACTIONS_DB_ID is not" in str(error.value)
    )


def test_partial_databricks_credentials(monkeypatch):
    with pytest.raises(SettingsError, match="set DATABRICKS_TOKEN, DATABRICKS_WAREHOUSE_ID"):
        load(monkeypatch, PPM_ENV="databricks", DATABRICKS_HOST="https://adb-1.azuredatabricks.net")


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("PPM_REPORTING_CURRENCY=EUR\nNOTION_API_VERSION=2025-09-03\n")
    settings = load_settings(env_file=str(env_file))
    assert settings.ppm.reporting_currency == "EUR" and settings.notion.api_version == "2025-09-03"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c6"),
        (" 1A2B3C4D-5E6F-47A8-B9C0-D1E2F3A4B5C6 ", "1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c6"),
        (
            "https://www.notion.so/w/Risks-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6?v=9",
            "1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c6",
        ),
    ],
)
def test_notion_ids_normalize(raw, normalized):
    assert normalize_notion_id(raw) == normalized


@pytest.mark.parametrize("raw", ["", "1a2b3c4d", "g" * 32, "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6ff"])
def test_notion_ids_reject_non_uuids(raw):
    with pytest.raises(ValueError, match="is not a Notion id"):
        normalize_notion_id(raw)


def test_the_sandbox_principal_is_the_one_the_sandbox_accepts() -> None:
    from ppm_resources import settings
    from ppm_sandbox.azure.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID

    assert (
        settings.SANDBOX_AZURE_TENANT_ID,
        settings.SANDBOX_AZURE_CLIENT_ID,
        settings.SANDBOX_AZURE_CLIENT_SECRET,
    ) == (
        DEFAULT_TENANT_ID,
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
    )


def test_azure_is_the_sandbox_until_a_principal_or_an_endpoint_is_set(monkeypatch):
    from ppm_resources.resources import azure_resource

    sandbox = load(
        monkeypatch, PPM_SANDBOX_AZURE_URL="https://127.0.0.1:9443", PPM_SANDBOX_CA_CERT="/tmp/ca.pem"
    )
    assert sandbox.azure_uses_sandbox
    resource = azure_resource(sandbox)
    assert (resource.arm_url, resource.authority_url, resource.ca_bundle) == (
        "https://127.0.0.1:9443",
        "https://127.0.0.1:9443",
        "/tmp/ca.pem",
    )
    real = load(
        monkeypatch,
        AZURE_TENANT_ID="72f988bf-86f1-41af-91ab-2d7cd011db47",
        AZURE_CLIENT_ID="5a1f0c3e-7b2d-4e8f-9a6b-0c1d2e3f4a5b",
        AZURE_CLIENT_SECRET="a-real-looking-secret",
        AZURE_SUBSCRIPTION_IDS="0b5f1c4e-3a2d-4e6f-8a7b-9c0d1e2f3a01",
    )
    assert not real.azure_uses_sandbox
    resource = azure_resource(real)
    assert resource.arm_url == "https://management.azure.com" and resource.authority_url is None
    assert resource.subscription_ids == ["0b5f1c4e-3a2d-4e6f-8a7b-9c0d1e2f3a01"]
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    managed_identity = load(monkeypatch, AZURE_ARM_URL="https://management.azure.com")
    assert not managed_identity.azure_uses_sandbox and azure_resource(managed_identity).client_secret is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"AZURE_CLIENT_SECRET": "only-the-secret-here"}, "set AZURE_TENANT_ID, AZURE_CLIENT_ID too"),
        (
            {"AZURE_SUBSCRIPTION_IDS": "0b5f1c4e-3a2d-4e6f-8a7b-9c0d1e2f3a01"},
            "AZURE_SUBSCRIPTION_IDS is set but no Azure principal nor AZURE_ARM_URL",
        ),
        (
            {"AZURE_ARM_URL": "https://management.azure.com", "AZURE_CA_BUNDLE": "/no/such.pem"},
            "no such file",
        ),
        ({"AZURE_SUBSCRIPTION_IDS": "prod"}, "is not a subscription id"),
    ],
)
def test_azure_settings_that_cannot_work_are_refused(monkeypatch, variables, message):
    with pytest.raises(SettingsError) as raised:
        load(monkeypatch, **variables)
    assert message in str(raised.value)
    assert "only-the-secret-here" not in str(raised.value)
