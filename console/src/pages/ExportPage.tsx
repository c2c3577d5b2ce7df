import {
  Button,
  Checkbox,
  MessageBar,
  MessageBarBody,
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
import { useState } from "react";
import { useLocation, useNavigate, useParams } from "react-router";
import { api, unwrap, type ExportView, type RunView } from "../api/client";
import { useAccess } from "../auth";
import { AppLink } from "../components/AppLink";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorBar, Loading, PageHeader, StatusBadge } from "../components/common";
import { count, duration, scheduleText, when } from "../format";
import { isLive, useExport, useRuns, useUsableConnectionNames } from "../queries";

const useStyles = makeStyles({
  facts: {
    display: "grid",
    gridTemplateColumns: "max-content 1fr",
    columnGap: tokens.spacingHorizontalXL,
    rowGap: tokens.spacingVerticalXS,
    margin: 0,
  },
  term: { fontWeight: tokens.fontWeightSemibold },
  detail: { margin: 0 },
});

/** May the caller change this export (run, cancel, edit, delete, download)?  Exactly as the API decides. */
export function useCanChange(connection: string | undefined): boolean {
  const { isAdmin, isContributor } = useAccess();
  const usable = useUsableConnectionNames();
  return isAdmin || (isContributor && connection !== undefined && usable.has(connection));
}

export function ExportPage() {
  const { name = "" } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const exported = useExport(name);
  const runs = useRuns(name);
  const view = exported.data?.view;
  const canChange = useCanChange(view?.connection);
  const [starting, setStarting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const warnings = (location.state as { warnings?: string[] } | null)?.warnings ?? [];
  const live = runs.data?.items.find(isLive);

  return (
    <>
      <PageHeader
        title={`Export ${name}`}
        actions={
          canChange && view ? (
            <>
              <Button appearance="primary" onClick={() => setStarting(true)} disabled={live !== undefined}>
                Run now
              </Button>
              <Button onClick={() => navigate(`/exports/${name}/edit`)}>Edit</Button>
              <Button onClick={() => setDeleting(true)}>Delete</Button>
            </>
          ) : null
        }
      />
      {warnings.map((warning) => (
        <MessageBar key={warning} intent="warning">
          <MessageBarBody>Saved, with a warning: {warning}</MessageBarBody>
        </MessageBar>
      ))}
      {exported.isPending ? <Loading label="Loading the export…" /> : null}
      <ErrorBar error={exported.error} />
      {view ? <Facts view={view} /> : null}
      <Title3 as="h2">Runs</Title3>
      <ErrorBar error={runs.error} />
      {runs.data ? <RunTable name={name} runs={runs.data.items} /> : <Loading label="Loading runs…" />}
      {starting && view ? <StartRun name={name} onDone={() => setStarting(false)} /> : null}
      {deleting ? <DeleteExport name={name} live={live} onDone={() => setDeleting(false)} /> : null}
    </>
  );
}

function Facts({ view }: { view: ExportView }) {
  const styles = useStyles();
  const mapping = view.mapping;
  const fields: [string, string][] = [
    ["Connection", view.connection],
    ["ActiveCampaign list", String(view.listId)],
    ["Segments", view.segments.join(", ")],
    ["Email", mapping.email],
    ["First name", mapping.firstName ?? "—"],
    ["Last name", mapping.lastName ?? "—"],
    ["Phone", mapping.phone ?? "—"],
    ["Custom fields", (mapping.customFields ?? []).map((c) => `${c.attribute} → ${c.field}`).join(", ") || "—"],
    ["Tags", (view.tags ?? []).join(", ") || "—"],
    ["Schedule", scheduleText(view.schedule)],
    ["Sync mode", view.syncMode === "mirror" ? `Mirror (leavers: ${view.leaverAction})` : "Upsert"],
    ["Mass-removal guard", view.syncMode === "mirror" ? `Stop above ${view.maxRemovalPercent}% of the list` : "—"],
    ["Exclude automations", view.excludeAutomations ? "Yes" : "No"],
    ["Enabled", view.enabled === false ? "No (not scheduled)" : "Yes"],
    ["Updated", `${when(view.updatedAt)} by ${view.updatedBy.name}`],
  ];
  return (
    <dl className={styles.facts}>
      {fields.map(([term, detail]) => (
        <div key={term} style={{ display: "contents" }}>
          <dt className={styles.term}>{term}</dt>
          <dd className={styles.detail}>{detail}</dd>
        </div>
      ))}
    </dl>
  );
}

function RunTable({ name, runs }: { name: string; runs: RunView[] }) {
  if (runs.length === 0) return <Text as="p">No runs yet.</Text>;
  return (
    <Table aria-label="Runs">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Run</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
          <TableHeaderCell>Trigger</TableHeaderCell>
          <TableHeaderCell>Profiles read</TableHeaderCell>
          <TableHeaderCell>To send</TableHeaderCell>
          <TableHeaderCell>Confirmed</TableHeaderCell>
          <TableHeaderCell>Rejected</TableHeaderCell>
          <TableHeaderCell>Duration</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {runs.map((run) => (
          <TableRow key={run.id}>
            <TableCell>
              <AppLink to={`/exports/${name}/runs/${run.id}`}>{when(run.timings.queuedAt)}</AppLink>
            </TableCell>
            <TableCell>
              <StatusBadge run={run} />
            </TableCell>
            <TableCell>
              {run.trigger}
              {run.options.dryRun ? " (dry run)" : ""}
              {run.options.full ? " (full)" : ""}
            </TableCell>
            <TableCell>{count(run.counts.profilesRead)}</TableCell>
            <TableCell>{count(run.counts.toSend)}</TableCell>
            <TableCell>{count(run.counts.confirmed)}</TableCell>
            <TableCell>{count(run.counts.rejected)}</TableCell>
            <TableCell>{duration(run.timings.durationS)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function StartRun({ name, onDone }: { name: string; onDone: () => void }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [options, setOptions] = useState({ dryRun: false, full: false, force: false });
  const start = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/exports/{name}/runs", { params: { path: { name } }, body: options })),
    onSuccess: async (run) => {
      await queries.invalidateQueries({ queryKey: ["runs", name] });
      onDone();
      navigate(`/exports/${name}/runs/${run.id}`);
    },
  });
  const toggle = (key: keyof typeof options) => (_: unknown, data: { checked: boolean | "mixed" }) =>
    setOptions({ ...options, [key]: data.checked === true });
  return (
    <ConfirmDialog
      title={`Run ${name} now`}
      confirm="Start run"
      dismiss="Cancel"
      onConfirm={() => start.mutate()}
      onDismiss={onDone}
      pending={start.isPending}
      error={start.error}
    >
      <Checkbox checked={options.dryRun} onChange={toggle("dryRun")} label="Dry run: plan and report, send nothing" />
      <br />
      <Checkbox checked={options.full} onChange={toggle("full")} label="Full resend: everyone, not only what changed" />
      <br />
      <Checkbox checked={options.force} onChange={toggle("force")} label="Force: pass the mass-removal guard" />
    </ConfirmDialog>
  );
}

function DeleteExport({ name, live, onDone }: { name: string; live: RunView | undefined; onDone: () => void }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/exports/{name}", { params: { path: { name } } })),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["exports"] });
      onDone();
      navigate("/exports");
    },
  });
  return (
    <ConfirmDialog
      title={`Delete export ${name}?`}
      confirm="Delete"
      dismiss="Keep it"
      onConfirm={() => remove.mutate()}
      onDismiss={onDone}
      pending={remove.isPending}
      error={remove.error}
    >
      <Text as="p">
        It stops being scheduled at once. Its run history and reports are kept for admins, under its retired id; a
        new export with the same name starts from nothing. Contacts already in ActiveCampaign stay there.
      </Text>
      <Text as="p" weight="semibold">
        {live
          ? `Its run in flight (${live.status}, started ${when(live.timings.queuedAt)}) is cancelled: its shards stop before their next batch, and what was already sent stays sent.`
          : "No run is in flight; a run that starts before you confirm is cancelled the same way."}
      </Text>
    </ConfirmDialog>
  );
}
