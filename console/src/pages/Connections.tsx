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
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, unwrap, type ConnectionView } from "../api/client";
import { useAccess } from "../auth";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorBar, Loading, PageHeader } from "../components/common";
import { when } from "../format";
import { useConnections } from "../queries";

const USABLE_BY: Record<string, string> = {
  admins: "Admins",
  "admins-and-contributors": "Admins and contributors",
};

export function ConnectionsPage() {
  const { isAdmin } = useAccess();
  const navigate = useNavigate();
  const connections = useConnections();
  const [deleting, setDeleting] = useState<string | null>(null);

  return (
    <>
      <PageHeader
        title="Connections"
        actions={
          isAdmin ? (
            <Button appearance="primary" onClick={() => navigate("/connections/new")}>
              Add connection
            </Button>
          ) : null
        }
      />
      {!isAdmin ? (
        <Text as="p">The ActiveCampaign connections shared with contributors. Only admins see their details.</Text>
      ) : null}
      {connections.isPending ? <Loading label="Loading connections…" /> : null}
      <ErrorBar error={connections.error} />
      {connections.data ? (
        <Table aria-label="Connections">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Display name</TableHeaderCell>
              {isAdmin ? (
                <>
                  <TableHeaderCell>Hostname</TableHeaderCell>
                  <TableHeaderCell>Who can use it</TableHeaderCell>
                  <TableHeaderCell>Export user</TableHeaderCell>
                  <TableHeaderCell>Consent</TableHeaderCell>
                  <TableHeaderCell>Actions</TableHeaderCell>
                </>
              ) : null}
            </TableRow>
          </TableHeader>
          <TableBody>
            {connections.data.items.map((item) => {
              const full = "hostname" in item ? (item as ConnectionView) : null;
              return (
                <TableRow key={item.name}>
                  <TableCell>{item.name}</TableCell>
                  <TableCell>{item.displayName}</TableCell>
                  {isAdmin && full ? (
                    <>
                      <TableCell>{full.hostname}</TableCell>
                      <TableCell>{USABLE_BY[full.usableBy] ?? full.usableBy}</TableCell>
                      <TableCell>{full.exportUser.name}</TableCell>
                      <TableCell>
                        Agreed by {full.consent.by.name}, {when(full.consent.at)}
                      </TableCell>
                      <TableCell>
                        <Button size="small" onClick={() => navigate(`/connections/${item.name}/edit`)}>
                          Edit <span className="visually-hidden">&nbsp;{item.name}</span>
                        </Button>{" "}
                        <Button size="small" onClick={() => setDeleting(item.name)}>
                          Delete <span className="visually-hidden">&nbsp;{item.name}</span>
                        </Button>
                      </TableCell>
                    </>
                  ) : null}
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      ) : null}
      {connections.data && connections.data.items.length === 0 ? <Text as="p">No connections yet.</Text> : null}
      {deleting ? <DeleteConnection name={deleting} onDone={() => setDeleting(null)} /> : null}
    </>
  );
}

function DeleteConnection({ name, onDone }: { name: string; onDone: () => void }) {
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/connections/{name}", { params: { path: { name } } })),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["connections"] });
      onDone();
    },
  });
  return (
    <ConfirmDialog
      title={`Delete connection ${name}?`}
      confirm="Delete"
      dismiss="Keep it"
      onConfirm={() => remove.mutate()}
      onDismiss={onDone}
      pending={remove.isPending}
      error={remove.error}
    >
      <Text as="p">
        Its API key is removed from the key store. A connection that exports still use cannot be deleted: move or
        delete those exports first.
      </Text>
    </ConfirmDialog>
  );
}
