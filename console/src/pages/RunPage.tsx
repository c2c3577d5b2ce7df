import {
  Button,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router";
import { API_BASE, ApiError, api, unwrap, type RunView } from "../api/client";
import { AppLink } from "../components/AppLink";
import { ErrorBar, Loading, PageHeader, StatusBadge } from "../components/common";
import { RunChart } from "../components/RunChart";
import { count, duration, when } from "../format";
import { isLive, useExport, useRun } from "../queries";
import { localPrincipalHeader } from "../signin";
import { useCanChange } from "./ExportPage";

const useStyles = makeStyles({
  tiles: { display: "flex", gap: tokens.spacingHorizontalXXL, flexWrap: "wrap" },
  tile: { display: "flex", flexDirection: "column" },
  columns: { display: "flex", gap: tokens.spacingHorizontalXXL, flexWrap: "wrap", alignItems: "flex-start" },
});

/** What to do about a run's error, by its code (the message itself says what failed). */
const WHAT_TO_DO: Record<string, string> = {
  activecampaign_auth_failed: "An admin must update the connection with a working API key, then run again.",
  activecampaign_not_found: "The list no longer exists in ActiveCampaign: edit the export to pick a list.",
  activecampaign_rejected: "Check the connection's hostname and the export's list, then run again.",
  snapshot_error: "Check the segment export in Customer Insights (model.json and its files), then run again.",
  secret_not_found: "An admin must save the connection again with its API key.",
  poisoned: "A shard failed repeatedly; the run's report and the logs name it. Run again once the cause is fixed.",
};

export function RunPage() {
  const { name = "", runId = "" } = useParams();
  const run = useRun(name, runId);
  const exported = useExport(name);
  const canChange = useCanChange(exported.data?.view.connection);
  const view = run.data;
  return (
    <>
      <PageHeader
        title={
          <>
            Run of <AppLink to={`/exports/${name}`}>{name}</AppLink> {view ? <StatusBadge run={view} /> : null}
          </>
        }
        actions={view && canChange ? <RunActions name={name} run={view} /> : null}
      />
      <Text size={200}>Run id {runId}</Text>
      {run.isPending ? <Loading label="Loading the run…" /> : null}
      <ErrorBar error={run.error} />
      {view ? <RunBody run={view} /> : null}
    </>
  );
}

function RunActions({ name, run }: { name: string; run: RunView }) {
  const queries = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/exports/{name}/runs/{runId}/cancel", { params: { path: { name, runId: run.id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["run", name, run.id] }),
  });
  const download = useMutation({ mutationFn: () => downloadReport(name, run.id) });
  return (
    <>
      {isLive(run) ? (
        <Button onClick={() => cancel.mutate()} disabled={cancel.isPending || run.cancelRequested}>
          {run.cancelRequested ? "Cancel requested" : "Cancel run"}
        </Button>
      ) : (
        <Button appearance="primary" onClick={() => download.mutate()} disabled={download.isPending}>
          Download report
        </Button>
      )}
      <ErrorBar error={cancel.error ?? download.error} />
    </>
  );
}

/** The per-row report is a CSV behind the API's sign-in: fetched with the same identity, then saved. */
async function downloadReport(name: string, runId: string): Promise<void> {
  const headers: Record<string, string> = { "X-Requested-With": "XMLHttpRequest" };
  const principal = localPrincipalHeader();
  if (principal) headers["X-MS-CLIENT-PRINCIPAL"] = principal;
  const response = await fetch(`${API_BASE}/exports/${name}/runs/${runId}/report`, { headers });
  if (!response.ok) throw ApiError.of(response.status, await response.json().catch(() => undefined));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `${name}-${runId}-report.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function RunBody({ run }: { run: RunView }) {
  const styles = useStyles();
  const c = run.counts;
  const toSend = c.toSend ?? 0;
  const confirmed = c.confirmed ?? 0;
  const shards = run.shards;
  const live = isLive(run);
  // accepted by AC in shards still sending: shown beside the counts, which move when a shard ends
  const inFlight = live ? (run.acceptedInFlight ?? 0) : 0;
  const progress = `${count(confirmed)} of ${count(toSend)} confirmed${inFlight ? `, ${count(inFlight)} more accepted and being sent` : ""}`;
  return (
    <>
      {run.error ? (
        <MessageBar intent="error">
          <MessageBarBody>
            <MessageBarTitle>{run.error.code}</MessageBarTitle>
            {run.error.message} {WHAT_TO_DO[run.error.code] ?? ""}
          </MessageBarBody>
        </MessageBar>
      ) : null}
      {run.reason ? (
        <MessageBar intent={run.status === "Skipped" ? "info" : "warning"}>
          <MessageBarBody>
            <MessageBarTitle>{run.status}</MessageBarTitle>
            {run.reason}
          </MessageBarBody>
        </MessageBar>
      ) : null}
      <Field
        label="Confirmed by ActiveCampaign of those to send"
        hint={progress}
      >
        <ProgressBar
          value={toSend > 0 ? Math.min(confirmed / toSend, 1) : run.status === "Succeeded" ? 1 : 0}
          thickness="large"
          aria-valuetext={progress}
        />
      </Field>
      <div className={styles.tiles}>
        <Tile label="Shards" value={`${count(shards.done)} of ${count(shards.total)}${(shards.failed ?? []).length ? `, ${shards.failed?.length} failed` : ""}`} />
        <Tile label="Rate-limit answers" value={count(run.rateLimited)} />
        <Tile label="Retries" value={count(run.retries)} />
        <Tile
          label="Time left at the account's ceiling"
          testId="time-left"
          value={live ? (run.timeLeftS === null || run.timeLeftS === undefined ? "after planning" : duration(run.timeLeftS)) : "—"}
        />
        <Tile label="Waited for the account's lane" value={duration(run.laneWaitS)} />
      </div>
      <Title3 as="h2">Over time</Title3>
      <RunChart run={run} />
      <div className={styles.columns}>
        <Facts
          title="Counts"
          header={["Rows", "Count"]}
          testIds
          rows={[
            ["Profiles read", count(c.profilesRead)],
            ["Invalid", count(c.invalid)],
            ["Duplicates", count(c.duplicates)],
            ["Unchanged", count(c.unchanged)],
            ["Opted out", count(c.optedOut)],
            ["To send", count(c.toSend)],
            ["Sent", count(c.sent)],
            ["Confirmed", count(c.confirmed)],
            ["Rejected", count(c.rejected)],
            ["Not sent", count(c.notSent)],
            ["To remove", count(c.toRemove)],
            ["Removed", count(c.removed)],
          ]}
        />
        <Facts
          title="Timings"
          header={["Step", "When"]}
          rows={[
            ["Queued", when(run.timings.queuedAt)],
            ["Started", when(run.timings.startedAt)],
            ["Planned", `${when(run.timings.plannedAt)} (${duration(run.timings.planningS)})`],
            ["Sending", duration(run.timings.sendingS)],
            ["Finished", when(run.timings.finishedAt)],
            ["Duration", duration(run.timings.durationS)],
            ["Requested by", run.requestedBy?.name ?? run.trigger],
          ]}
        />
      </div>
    </>
  );
}

/** A titled two-column table (counts, timings); with `testIds`, each value carries data-testid=count-<label>. */
function Facts(props: { title: string; header: [string, string]; rows: [string, string][]; testIds?: boolean }) {
  return (
    <section aria-label={props.title}>
      <Title3 as="h2">{props.title}</Title3>
      <Table size="small" aria-label={props.title}>
        <TableHeader>
          <TableRow>
            <TableHeaderCell>{props.header[0]}</TableHeaderCell>
            <TableHeaderCell>{props.header[1]}</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {props.rows.map(([label, value]) => (
            <TableRow key={label}>
              <TableCell>{label}</TableCell>
              <TableCell data-testid={props.testIds ? `count-${label}` : undefined}>{value}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}

function Tile({ label, value, testId }: { label: string; value: string; testId?: string }) {
  const styles = useStyles();
  return (
    <div className={styles.tile}>
      <Text size={200}>{label}</Text>
      <Text size={500} weight="semibold" data-testid={testId}>
        {value}
      </Text>
    </div>
  );
}
