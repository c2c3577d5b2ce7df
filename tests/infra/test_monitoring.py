"""Alerts and the workbook query exactly the events, dimensions and metrics that shared/events.py defines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shared import events
from shared.names import ALL_QUEUES, FINALIZE_QUEUE, PLAN_QUEUE, POISON_SUFFIX, RUN_QUEUE, SHARD_QUEUE
from tests.infra.bicepdoc import APP, chain, doc, function, kql_text, resources

MONITORING = "app/monitoring.bicep"
RULE = "Microsoft.Insights/scheduledQueryRules"
KQL_FILES = sorted((APP / "kql").glob("*.kql"))

EVENT_NAMES = {value for name, value in vars(events).items() if name.startswith("EVENT_")}
METRIC_NAMES = {value for name, value in vars(events).items() if name.startswith("METRIC_")}
DIMENSIONS = {value for name, value in vars(events).items() if name.startswith("DIM_")} | set(events.RUN_COUNT_KEYS)
# Metric attributes named in events.py's comment on the METRIC_* constants (no constants exist for them).
METRIC_ATTRIBUTES = {"outcome", "status_code"}

EVENT_COMPARISON = re.compile(r'customDimensions\["event"\]\)\s*==\s*"([^"]+)"')
STATUS_COMPARISON = re.compile(r'customDimensions\["status"\]\)\s*==\s*"([^"]+)"')
DIMENSION_ACCESS = re.compile(r'customDimensions\["([^"]+)"\]')
METRIC_COMPARISON = re.compile(r'\bname\s*==\s*"([^"]+)"')

# Queries over a warning of the Functions host instead of an event of ours: a failing poison handler runs no
# code of ours that could log. The host's text, from the Storage Queues extension
# (Microsoft.Azure.WebJobs.Extensions.Storage.Queues, QueueProcessor.CopyMessageToPoisonQueueAsync):
HOST_LOG_QUERIES = {"poison-of-poison.kql"}
HOST_POISON_WARNING = "Message has reached MaxDequeueCount of {count}. Moving message to queue '{queue}'."


def _rules() -> dict[str, dict[str, Any]]:
    return resources(doc(MONITORING), RULE)


def _rule(suffix: str) -> dict[str, Any]:
    matches = [cfg for cfg in _rules().values() if cfg["name"] == "${alertNamePrefix}" + suffix]
    assert len(matches) == 1, f"expected one alert rule named *{suffix}"
    return matches[0]


def _condition(rule: dict[str, Any]) -> dict[str, Any]:
    conditions = rule["properties"]["criteria"]["allOf"]
    assert len(conditions) == 1
    condition = conditions[0]
    assert isinstance(condition, dict)
    return condition


def _query(rule: dict[str, Any]) -> str:
    return kql_text(MONITORING, _condition(rule)["query"])


def _events(kql: str) -> set[str]:
    return set(EVENT_COMPARISON.findall(kql))


@pytest.mark.parametrize("path", KQL_FILES, ids=[p.name for p in KQL_FILES])
def test_kql_uses_only_names_from_events_py(path: Path) -> None:
    kql = path.read_text(encoding="utf-8")
    assert _events(kql) <= EVENT_NAMES, f"{path.name} queries unknown events {_events(kql) - EVENT_NAMES}"
    unknown_dims = set(DIMENSION_ACCESS.findall(kql)) - DIMENSIONS - METRIC_ATTRIBUTES
    assert not unknown_dims, f"{path.name} reads customDimensions keys not in events.py: {unknown_dims}"
    assert set(STATUS_COMPARISON.findall(kql)) <= set(events.FINAL_STATUSES)
    assert set(METRIC_COMPARISON.findall(kql)) <= METRIC_NAMES
    if path.name in HOST_LOG_QUERIES:
        assert not _events(kql) and not METRIC_COMPARISON.findall(kql), f"{path.name} reads only the host's log"
        return
    assert _events(kql) or METRIC_COMPARISON.findall(kql), f"{path.name} selects neither an event nor a metric"


def test_action_group_emails_the_alert_address() -> None:
    groups = resources(doc(MONITORING), "Microsoft.Insights/actionGroups")
    assert len(groups) == 1
    ((symbol, group),) = groups.items()
    receivers = group["properties"]["emailReceivers"]["operator"]["operands"]
    assert receivers["true_value"] == []
    assert receivers["false_value"][0]["emailAddress"] == "alertEmail"
    assert doc("main.bicep")["modules"]["monitoring"]["config"]["params"]["alertEmail"] == "alertEmail"
    for cfg in _rules().values():
        assert [chain(g) for g in cfg["properties"]["actions"]["actionGroups"]] == [[symbol, "id"]]


def test_every_alert_queries_app_insights() -> None:
    rules = _rules()
    assert len(rules) == 5
    for cfg in rules.values():
        assert [chain(s) for s in cfg["properties"]["scopes"]] == [["applicationInsights", "id"]]
        assert cfg["kind"] == "LogAlert"
        assert cfg["properties"]["enabled"] is True
        condition = _condition(cfg)
        for dimension in condition.get("dimensions", []):
            assert dimension["name"] in _query(cfg), f"{cfg['name']} splits by a column its query lacks"


def test_failed_run_alert() -> None:
    rule = _rule("failed-run")
    kql = _query(rule)
    assert _events(kql) == {events.EVENT_RUN_FINISHED}
    assert STATUS_COMPARISON.findall(kql) == ["Failed"]
    condition = _condition(rule)
    assert (condition["timeAggregation"], condition["operator"], condition["threshold"]) == ("Count", "GreaterThan", 0)


def test_rejection_rate_alert_compares_rejected_over_sent_with_the_parameter() -> None:
    rule = _rule("rejection-rate")
    kql = _query(rule)
    assert _events(kql) == {events.EVENT_RUN_FINISHED}
    assert {"sent", "rejected"} <= set(DIMENSION_ACCESS.findall(kql))
    condition = _condition(rule)
    assert condition["metricMeasureColumn"] == "rejection_percent"
    assert re.search(r"rejection_percent\s*=.*rejected\s*/\s*sent", kql)
    assert condition["threshold"] == "maxRejectionPercent"
    assert doc("main.bicep")["modules"]["monitoring"]["config"]["params"]["maxRejectionPercent"] == (
        "alertMaxRejectionPercent"
    )


def test_poisoned_message_alert() -> None:
    rule = _rule("poisoned-message")
    kql = _query(rule)
    assert _events(kql) == {events.EVENT_MESSAGE_POISONED}
    assert events.DIM_QUEUE in DIMENSION_ACCESS.findall(kql)
    assert _condition(rule)["dimensions"][0]["name"] == "queue_name"


def test_every_alert_skips_query_validation() -> None:
    # The rules are created together with a new workspace that holds no traces yet; validating their queries
    # there fails the first deployment.
    for cfg in _rules().values():
        assert cfg["properties"].get("skipQueryValidation") is True, f"{cfg['name']} validates its query"


def _poison_of_poison_queues(kql: str, messages: list[str]) -> list[str]:
    """Run the query's filter and extract over host messages: the queue_name values it would alert on."""
    terms = re.findall(r'message has "([^"]+)"', kql)
    extract = re.search(r'extract\(@"(.+?)", 1, message\)', kql)
    suffix = re.search(r'queue_name endswith "([^"]+)"', kql)
    assert terms and extract and suffix, "the query filters on the message, extracts queue_name and checks its end"
    found = []
    for message in messages:
        # KQL's `has` matches whole terms: the term with no letter or digit next to it.
        if not all(re.search(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", message) for term in terms):
            continue
        match = re.search(extract.group(1), message)
        if match and match.group(1).endswith(suffix.group(1)):
            found.append(match.group(1))
    return found


def test_poison_of_poison_alert_fires_per_queue_on_the_hosts_move() -> None:
    rule = _rule("poison-of-poison")
    kql = _query(rule)
    condition = _condition(rule)
    assert [d["name"] for d in condition["dimensions"]] == ["queue_name"]
    assert (condition["timeAggregation"], condition["operator"], condition["threshold"]) == ("Count", "GreaterThan", 0)
    assert rule["properties"]["severity"] == 1
    work_queues = (RUN_QUEUE, PLAN_QUEUE, SHARD_QUEUE, FINALIZE_QUEUE)
    poison_of_poison = [queue + POISON_SUFFIX + POISON_SUFFIX for queue in work_queues]
    assert {queue + POISON_SUFFIX for queue in work_queues} <= set(ALL_QUEUES), "each work queue has a poison queue"
    moved_on = [HOST_POISON_WARNING.format(count=5, queue=queue) for queue in poison_of_poison]
    first_moves = [HOST_POISON_WARNING.format(count=5, queue=queue + POISON_SUFFIX) for queue in work_queues]
    others = ["Executing 'Functions.shard_poison' (Reason='New queue message detected on export-shards-poison.')"]
    assert _poison_of_poison_queues(kql, moved_on + first_moves + others) == poison_of_poison


def test_no_successful_run_alert_looks_back_the_parameter_hours() -> None:
    rule = _rule("no-successful-run")
    kql = _query(rule)
    assert _events(kql) == {events.EVENT_EXPORT_CHECKED, events.EVENT_RUN_FINISHED}
    assert STATUS_COMPARISON.findall(kql) == ["Succeeded"]
    assert "leftanti" in kql
    assert rule["properties"]["overrideQueryTimeRange"] == "PT${noSuccessHours}H"
    hours = doc(MONITORING)["parameters"]["noSuccessHours"]["decorators"]
    assert {"type": "max_value", "argument": 48} in hours


def _workbook_panels() -> list[dict[str, Any]]:
    d = doc(MONITORING)
    workbooks = resources(d, "Microsoft.Insights/workbooks")
    assert len(workbooks) == 1
    ((_, workbook),) = workbooks.items()
    assert workbook["kind"] == "shared"
    assert function(workbook["properties"]["serializedData"], "string") == {"value_to_convert": "workbookContent"}
    items = function(d["variables"]["workbookContent"]["value"]["items"], "concat")
    assert items["arg_2"] == "workbookQueryItems"
    panels = d["variables"]["workbookPanels"]["value"]
    assert isinstance(panels, list)
    return panels


def test_workbook_shows_the_required_views() -> None:
    queries = [kql_text(MONITORING, panel["query"]) for panel in _workbook_panels()]

    def shows(predicate: Any) -> bool:
        return any(predicate(q) for q in queries)

    run_finished = events.EVENT_RUN_FINISHED
    assert shows(lambda q: run_finished in _events(q) and re.search(r"by status\b", q)), "runs by status"
    assert shows(lambda q: {"sent", "rejected", "invalid"} <= set(DIMENSION_ACCESS.findall(q))), "profiles"
    assert shows(lambda q: "rate_limited" in DIMENSION_ACCESS.findall(q)), "rate-limited count"
    assert shows(lambda q: events.METRIC_AC_RESPONSES in METRIC_COMPARISON.findall(q)), "AC responses (429s)"
    assert shows(lambda q: "duration_s" in DIMENSION_ACCESS.findall(q)), "duration per run"
    assert shows(lambda q: events.METRIC_LANE_WAIT in METRIC_COMPARISON.findall(q)), "lane wait"


def test_every_kql_file_is_used_and_alerts_reuse_the_workbook_queries() -> None:
    d = doc(MONITORING)
    table = d["variables"]["kql"]["value"]
    loaded = {function(v, "load_text_content")["file_path"] for v in table.values()}
    assert loaded == {f"kql/{p.name}" for p in KQL_FILES}
    panel_keys = {chain(panel["query"])[1] for panel in _workbook_panels()}
    alert_keys = {chain(_condition(cfg)["query"])[1] for cfg in _rules().values()}
    assert alert_keys <= panel_keys, "each alert's query is also a workbook panel"
    assert panel_keys | alert_keys == set(table)
