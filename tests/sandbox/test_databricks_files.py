"""The Files API over volumes, through the real SDK (`WorkspaceClient.files`) and raw HTTP."""

import io

import pytest
from databricks.sdk.errors import AlreadyExists, NotFound

from tests.sandbox.databricks_conftest_helpers import Workspace, workspace_fixture

VOLUME = "/Volumes/main/raw/landing"


ws = workspace_fixture(volumes=("main.raw.landing",))


def test_upload_download_metadata_delete(clean: Workspace) -> None:
    files = clean.client.files
    files.upload(f"{VOLUME}/dir/a b.bin", io.BytesIO(b"\x00hello"), overwrite=True)
    assert files.download(f"{VOLUME}/dir/a b.bin").contents.read() == b"\x00hello"
    metadata = files.get_metadata(f"{VOLUME}/dir/a b.bin")
    assert metadata.content_length == 6 and metadata.last_modified.endswith("GMT")
    assert (clean.storage / "_volumes/main/raw/landing/dir/a b.bin").read_bytes() == b"\x00hello"
    files.upload(f"{VOLUME}/dir/a b.bin", io.BytesIO(b"again"))  # overwrite omitted: replaces
    assert files.download(f"{VOLUME}/dir/a b.bin").contents.read() == b"again"
    with pytest.raises(AlreadyExists):
        files.upload(f"{VOLUME}/dir/a b.bin", io.BytesIO(b"no"), overwrite=False)
    files.delete(f"{VOLUME}/dir/a b.bin")
    with pytest.raises(NotFound):
        files.download(f"{VOLUME}/dir/a b.bin")
    with pytest.raises(NotFound):
        files.delete(f"{VOLUME}/dir/a b.bin")
    assert clean.control.get("/files").json() == {"files": []}


def test_directories_list_in_pages(clean: Workspace) -> None:
    files = clean.client.files
    for name in ("b.txt", "a.txt", "sub/c.txt"):
        files.upload(f"{VOLUME}/d/{name}", io.BytesIO(name.encode()), overwrite=True)
    entries = list(files.list_directory_contents(f"{VOLUME}/d"))
    assert [(e.name, e.is_directory, e.file_size) for e in entries] == [
        ("a.txt", False, 5),
        ("b.txt", False, 5),
        ("sub", True, None),
    ]
    assert entries[0].path == f"{VOLUME}/d/a.txt" and entries[0].last_modified > 0
    assert [e.name for e in files.list_directory_contents(f"{VOLUME}/d", page_size=1)] == [
        "a.txt",
        "b.txt",
        "sub",
    ]
    page = clean.http.get(f"/api/2.0/fs/directories{VOLUME}/d", params={"page_size": 2}).json()
    assert len(page["contents"]) == 2 and page["next_page_token"]
    files.create_directory(f"{VOLUME}/empty/nested")
    files.get_directory_metadata(f"{VOLUME}/empty/nested")
    files.delete_directory(f"{VOLUME}/empty/nested")
    with pytest.raises(NotFound):
        files.get_directory_metadata(f"{VOLUME}/empty/nested")
    with pytest.raises(NotFound):
        list(files.list_directory_contents(f"{VOLUME}/nowhere"))


def test_unknown_volumes_and_bad_paths(clean: Workspace) -> None:
    response = clean.http.put("/api/2.0/fs/files/Volumes/main/raw/nope/a.txt", content=b"x")
    assert response.status_code == 404
    assert response.json() == {"error_code": "NOT_FOUND", "message": "Volume 'main.raw.nope' does not exist."}
    missing = clean.http.get(f"/api/2.0/fs/files{VOLUME}/missing.txt")
    assert missing.status_code == 404 and missing.json()["error_code"] == "NOT_FOUND"
    assert clean.http.head(f"/api/2.0/fs/files{VOLUME}/missing.txt").status_code == 404
    assert clean.http.put(f"/api/2.0/fs/files{VOLUME}/../x", content=b"x").status_code in (400, 404)
    assert clean.http.put("/api/2.0/fs/files/Workspace/x.txt", content=b"x").status_code == 400
    exists = clean.http.put(f"/api/2.0/fs/files{VOLUME}/a.txt", content=b"1")
    assert exists.status_code == 204
    conflict = clean.http.put(f"/api/2.0/fs/files{VOLUME}/a.txt", params={"overwrite": "false"}, content=b"2")
    assert conflict.status_code == 409 and conflict.json()["error_code"] == "ALREADY_EXISTS"


def test_volumes_created_with_sql_take_files(clean: Workspace) -> None:
    assert clean.failure("CREATE VOLUME main.nowhere.v").startswith("[SCHEMA_NOT_FOUND]")
    clean.ok("CREATE SCHEMA main.staging")
    clean.ok("CREATE VOLUME main.staging.drop")
    assert clean.failure("CREATE VOLUME main.staging.drop").startswith("[VOLUME_ALREADY_EXISTS]")
    clean.ok("CREATE VOLUME IF NOT EXISTS main.staging.drop")
    clean.client.files.upload("/Volumes/main/staging/drop/x.txt", io.BytesIO(b"x"), overwrite=True)
    assert clean.control.get("/files").json()["files"] == [
        {"path": "/Volumes/main/staging/drop/x.txt", "size": 1}
    ]
    clean.reset()
    # A reset drops volumes made by SQL and every file, and keeps the start-up volumes.
    assert clean.control.get("/catalog").json()["volumes"] == ["main.raw.landing"]
    assert clean.http.get("/api/2.0/fs/files/Volumes/main/staging/drop/x.txt").status_code == 404
