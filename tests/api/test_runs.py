"""Runs over HTTP: start (202 + Location + run-queue message), list, read, cancel, report."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa

from shared.models import Run, RunStatus
from shared.pipeline.finish import write_report
from shared.pipeline.messages import RunMessage
from shared.pipeline.report import write_part
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, VIEWER, ApiClient
from tests.api.conftest import Emu, connection_body, export_body, export_id_of


async def make_export(api: ApiClient, emu: Emu, name: str) -> None:
    body = connection_body(emu.host, emu.key, usableBy="admins-and-contributors")
    assert (await api.call("PUT", f"connections/{name}", as_=ADMIN, json_body=body)).status == 201
    assert (await api.call("PUT", f"exports/{name}", as_=ADMIN, json_body=export_body(name))).status == 201


async def finish(services: Services, export: str, run_id: str, status: RunStatus = RunStatus.SUCCEEDED) -> None:
    def done(run: Run) -> Run:
        return run.model_copy(update={"status": status})

    await services.runs.update(await export_id_of(services, export), run_id, done)


async def test_starting_a_run_answers_202_with_location_and_queues_it(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await make_export(api, emu, unique)

    reply = await api.call("POST", f"exports/{unique}/runs", as_=CONTRIBUTOR, json_body={"full": True, "dryRun": True})

    assert reply.status == 202, reply.body
    run = reply.json()
    assert run["status"] == "Queued" and run["trigger"] == "manual"
    assert run["options"] == {"full": True, "dryRun": True, "force": False}
    assert run["requestedBy"] == {"id": "u-carol", "name": "carol"}
    assert reply.header("Location") == f"/api/exports/{unique}/runs/{run['id']}"
    # the run-queue message went to the output binding, naming the export and the run
    [message] = reply.queue_messages
    parsed = RunMessage.parse(message)
    assert (parsed.export, parsed.run_id) == (unique, run["id"])
    # the Location answers with the same run
    got = await api.call("GET", f"exports/{unique}/runs/{run['id']}", as_=VIEWER)
    assert got.status == 200 and got.json()["id"] == run["id"]
    assert set(got.json()) >= {"counts", "timings", "error", "status", "shards"}
    assert got.json()["timings"]["queuedAt"]


async def test_an_empty_body_is_allowed_and_a_second_run_in_flight_is_409(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await make_export(api, emu, unique)
    first = await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)
    second = await api.call("POST", f"exports/{unique}/runs", as_=ADMIN, json_body={"force": True})

    assert first.status == 202 and first.json()["options"] == {"full": False, "dryRun": False, "force": False}
    assert second.status == 409 and first.json()["id"] in second.error["message"]
    assert second.queue_messages == []
    assert len(await dev.runs.list(await export_id_of(dev, unique))) == 1


async def test_runs_are_listed_newest_first_with_a_bounded_limit(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await make_export(api, emu, unique)
    ids = []
    for _ in range(3):
        run_id = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()["id"]
        await finish(dev, unique, run_id)
        ids.append(run_id)

    everything = await api.call("GET", f"exports/{unique}/runs", as_=VIEWER)
    newest = await api.call("GET", f"exports/{unique}/runs", as_=VIEWER, query={"limit": "1"})

    assert [r["id"] for r in everything.json()["items"]] == sorted(ids, reverse=True)
    assert [r["id"] for r in newest.json()["items"]] == [max(ids)]
    for bad in ("0", "101", "ten", "-1"):
        reply = await api.call("GET", f"exports/{unique}/runs", as_=VIEWER, query={"limit": bad})
        assert (reply.status, reply.fields) == (400, ["limit"]), bad


async def test_cancel_asks_the_run_to_stop_and_a_finished_run_is_409(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await make_export(api, emu, unique)
    run_id = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()["id"]

    canceled = await api.call("POST", f"exports/{unique}/runs/{run_id}/cancel", as_=CONTRIBUTOR)
    await finish(dev, unique, run_id, RunStatus.CANCELED)
    again = await api.call("POST", f"exports/{unique}/runs/{run_id}/cancel", as_=ADMIN)

    assert canceled.status == 202 and canceled.json()["cancelRequested"] is True
    assert again.status == 409 and "already finished" in again.error["message"]
    missing = await api.call("POST", f"exports/{unique}/runs/20200101T000000Z-000000/cancel", as_=ADMIN)
    assert missing.status == 404


async def test_the_report_is_csv_once_written(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    await make_export(api, emu, unique)
    run_id = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()["id"]
    path = f"exports/{unique}/runs/{run_id}/report"

    before = await api.call("GET", path, as_=CONTRIBUTOR)
    csv = b"row,email,outcome,reason\n7,not-an-email,invalid,email has no @\n"
    blob = dev.runs_container.get_blob_client(dev.runs.path(await export_id_of(dev, unique), run_id, "report.csv"))
    await blob.upload_blob(csv, overwrite=True)
    after = await api.call("GET", path, as_=CONTRIBUTOR)

    assert before.status == 404 and "Queued" in before.error["message"]
    assert after.status == 200 and after.body == csv
    assert (after.header("Content-Type") or "").startswith("text/csv")
    assert f"{unique}-{run_id}-report.csv" in (after.header("Content-Disposition") or "")


FORMULA_CELLS = ['=HYPERLINK("http://evil.example/?x","open")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r\n=1", "ok"]


async def test_the_report_the_product_writes_neutralises_formula_cells_in_every_text_column(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    # given a run whose report rows start like formulas in every text column (email, outcome, reason, segment,
    # partition), written as the planner and finaliser write them: a report part, composed when the run ends
    await make_export(api, emu, unique)
    run_id = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()["id"]
    n = len(FORMULA_CELLS)
    text = pa.array(FORMULA_CELLS, pa.string())
    columns = {"email": text, "outcome": text, "reason": text, "segment": text, "partition": text}
    rows = pa.table({**columns, "row": pa.array(range(1, n + 1))})
    export_id = await export_id_of(dev, unique)
    await write_part(dev.runs_container, dev.runs.path(export_id, run_id, "plan/reports/test.arrow"), rows)
    await write_report(dev, export_id, run_id, ["plan/reports/test.arrow"])
    await finish(dev, unique, run_id)

    # when a contributor downloads it and a CSV reader (a spreadsheet's import) reads it
    reply = await api.call("GET", f"exports/{unique}/runs/{run_id}/report", as_=CONTRIBUTOR)
    assert reply.status == 200, reply.body
    read = list(csv.DictReader(io.StringIO(reply.body.decode(), newline="")))

    # then each cell is the same text behind a single quote, still one cell (quoted), and "ok" is untouched
    expected = [("'" + v if v != "ok" else v) for v in FORMULA_CELLS]
    for column in ("email", "outcome", "reason", "segment", "partition"):
        assert [r[column] for r in read] == expected, column
    assert [r["row"] for r in read] == [str(i) for i in range(1, n + 1)]


async def test_run_ids_and_names_in_urls_are_checked(api: ApiClient, dev: Services) -> None:
    bad_run = await api.call("GET", "exports/ok/runs/..%2F..", as_=VIEWER)
    bad_name = await api.call("GET", "exports/-bad/runs", as_=VIEWER)
    unknown = await api.call("GET", "exports/ok/runs/20200101T000000Z-000000", as_=VIEWER)

    assert (bad_run.status, bad_run.fields) == (400, ["runId"])
    assert (bad_name.status, bad_name.fields) == (400, ["name"])
    assert unknown.status == 404 and json.loads(unknown.body)["error"]["code"] == "not_found"
