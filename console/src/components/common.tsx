import {
  Badge,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Title2,
  makeStyles,
  tokens,
  type BadgeProps,
} from "@fluentui/react-components";
import type { ReactNode } from "react";
import { ApiError, type RunView } from "../api/client";

const useStyles = makeStyles({
  header: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalM, flexWrap: "wrap" },
  grow: { flexGrow: 1 },
  actions: { display: "flex", gap: tokens.spacingHorizontalS, flexWrap: "wrap" },
});

export function PageHeader({ title, actions }: { title: ReactNode; actions?: ReactNode }) {
  const styles = useStyles();
  return (
    <div className={styles.header}>
      <Title2 as="h1" className={styles.grow}>
        {title}
      </Title2>
      {actions ? <div className={styles.actions}>{actions}</div> : null}
    </div>
  );
}

const STATUS_COLOR: Record<string, BadgeProps["color"]> = {
  Queued: "informative",
  Planning: "brand",
  Sending: "brand",
  Reconciling: "brand",
  Succeeded: "success",
  PartiallySucceeded: "warning",
  Failed: "danger",
  Canceled: "subtle",
  Skipped: "subtle",
};

export function StatusBadge({ run }: { run: Pick<RunView, "status"> }) {
  return (
    <Badge appearance="tint" color={STATUS_COLOR[run.status] ?? "informative"} data-testid="run-status">
      {run.status}
    </Badge>
  );
}

export function Loading({ label }: { label: string }) {
  return <Spinner size="small" label={label} />;
}

/** An error that is not about one field (or whose fields are not on the page): code and message. */
export function ErrorBar({ error, shownFields = [] }: { error: unknown; shownFields?: string[] }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  const elsewhere = api
    ? Object.entries(api.fields).filter(([key]) => !shownFields.some((f) => key === f || key.startsWith(`${f}.`)))
    : [];
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{api ? `Not done (${api.status} ${api.code})` : "Not done"}</MessageBarTitle>
        {api ? api.message : String(error)}
        {elsewhere.map(([key, message]) => (
          <div key={key}>
            {key}: {message}
          </div>
        ))}
      </MessageBarBody>
    </MessageBar>
  );
}

export function fieldError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.field(path) : undefined;
}

/** Props for a Fluent <Field>: the API's message for this path, shown next to the field. */
export function fieldState(error: unknown, path: string) {
  const message = fieldError(error, path);
  return message ? { validationState: "error" as const, validationMessage: message } : {};
}
