import {
  Button,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from "@fluentui/react-components";
import { useNavigate } from "react-router";
import type { ExportView } from "../api/client";
import { useAccess } from "../auth";
import { AppLink } from "../components/AppLink";
import { ErrorBar, Loading, PageHeader, StatusBadge } from "../components/common";
import { scheduleText, when } from "../format";
import { useExports, useRuns } from "../queries";

export function ExportsPage() {
  const { canWrite } = useAccess();
  const navigate = useNavigate();
  const exports = useExports();
  return (
    <>
      <PageHeader
        title="Exports"
        actions={
          canWrite ? (
            <Button appearance="primary" onClick={() => navigate("/exports/new")}>
              Add export
            </Button>
          ) : null
        }
      />
      {exports.isPending ? <Loading label="Loading exports…" /> : null}
      <ErrorBar error={exports.error} />
      {exports.data ? (
        <Table aria-label="Exports">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Connection</TableHeaderCell>
              <TableHeaderCell>List</TableHeaderCell>
              <TableHeaderCell>Segments</TableHeaderCell>
              <TableHeaderCell>Schedule</TableHeaderCell>
              <TableHeaderCell>Last run</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {exports.data.items.map((item) => (
              <ExportRow key={item.name} item={item} />
            ))}
          </TableBody>
        </Table>
      ) : null}
      {exports.data && exports.data.items.length === 0 ? (
        <Text as="p">No exports yet{canWrite ? ": add one to send a segment to an ActiveCampaign list" : ""}.</Text>
      ) : null}
    </>
  );
}

function ExportRow({ item }: { item: ExportView }) {
  const runs = useRuns(item.name, 1);
  const last = runs.data?.items[0];
  return (
    <TableRow>
      <TableCell>
        <AppLink to={`/exports/${item.name}`}>{item.name}</AppLink>
      </TableCell>
      <TableCell>{item.connection}</TableCell>
      <TableCell>{item.listId}</TableCell>
      <TableCell>{item.segments.join(", ")}</TableCell>
      <TableCell>{scheduleText(item.schedule)}</TableCell>
      <TableCell>
        {last ? (
          <>
            <StatusBadge run={last} /> {when(last.timings.queuedAt)}
          </>
        ) : runs.isPending ? (
          "…"
        ) : (
          "Never run"
        )}
      </TableCell>
    </TableRow>
  );
}
