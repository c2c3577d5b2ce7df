import {
  Button,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Radio,
  RadioGroup,
  Text,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { api, unwrap, type ConnectionView, type Schemas } from "../api/client";
import { useAccess } from "../auth";
import { ErrorBar, Loading, PageHeader, fieldState } from "../components/common";
import { when } from "../format";

export const useFormStyles = makeStyles({
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalL, maxWidth: "720px" },
  row: { display: "flex", gap: tokens.spacingHorizontalM, alignItems: "end", flexWrap: "wrap" },
  actions: { display: "flex", gap: tokens.spacingHorizontalS },
  statement: {
    padding: tokens.spacingHorizontalM,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground2,
  },
});

const PRIVACY =
  "Data exported to ActiveCampaign leaves the Azure compliance boundary of your organisation and is handled under " +
  "ActiveCampaign's terms and data-processing agreement. Your organisation is responsible for meeting " +
  "ActiveCampaign's obligations for the contacts you send, including consent and the right to be forgotten.";

/** Admins: add or edit a connection.  Connect verifies the key with ActiveCampaign; Save stores it. */
export function ConnectionForm() {
  const styles = useFormStyles();
  const { name: existing } = useParams();
  const { me, isAdmin } = useAccess();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const current = useQuery({
    queryKey: ["connection", existing],
    enabled: existing !== undefined,
    queryFn: async () => {
      const result = await api.GET("/connections/{name}", { params: { path: { name: existing ?? "" } } });
      return { view: unwrap(result) as ConnectionView, etag: result.response.headers.get("ETag") };
    },
  });
  const [name, setName] = useState(existing ?? "");
  const [displayName, setDisplayName] = useState("");
  const [usableBy, setUsableBy] = useState<Schemas["UsableBy"]>("admins");
  const [hostname, setHostname] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [consent, setConsent] = useState(false);
  const [checked, setChecked] = useState<Schemas["ConnectionCheck"] | null>(null);

  useEffect(() => {
    const view = current.data?.view;
    if (!view) return;
    setDisplayName(view.displayName);
    setUsableBy(view.usableBy);
    setHostname(view.hostname);
  }, [current.data]);

  const connect = useMutation({
    mutationFn: async () => unwrap(await api.POST("/verify-connection", { body: { hostname, apiKey } })),
    onSuccess: (check) => {
      setChecked(check);
      setHostname(check.hostname);
    },
    onError: () => setChecked(null),
  });
  const save = useMutation({
    mutationFn: async () => {
      const headers = current.data?.etag ? { "If-Match": current.data.etag } : { "If-None-Match": "*" };
      return unwrap(
        await api.PUT("/connections/{name}", {
          params: { path: { name }, header: headers },
          // The schema says consent is `true`; an unticked box is sent as it is, so that the API's own
          // field error ("must be true: accept the data-privacy statement…") is shown next to it.
          body: { displayName, hostname, apiKey, usableBy, consent: consent as true },
        }),
      );
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["connections"] });
      navigate("/connections");
    },
  });

  if (!isAdmin) return <ErrorBar error="Only admins manage connections." />;
  if (existing && current.isPending) return <Loading label="Loading the connection…" />;
  const error = connect.error ?? save.error;
  const changed = () => setChecked(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <>
      <PageHeader title={existing ? `Edit connection ${existing}` : "Add connection"} />
      <ErrorBar error={current.error} />
      <form className={styles.form} onSubmit={submit} aria-label="Connection">
        <Field label="Name" hint="Used in URLs: letters, digits, '-', '_' or '.'" required {...fieldState(error, "name")}>
          <Input value={name} onChange={(_, d) => setName(d.value)} disabled={existing !== undefined} />
        </Field>
        <Field label="Display name" required {...fieldState(error, "displayName")}>
          <Input value={displayName} onChange={(_, d) => setDisplayName(d.value)} />
        </Field>
        <Field label="Who can use it" {...fieldState(error, "usableBy")}>
          <RadioGroup value={usableBy} onChange={(_, d) => setUsableBy(d.value as Schemas["UsableBy"])}>
            <Radio value="admins" label="Admins" />
            <Radio value="admins-and-contributors" label="Admins and contributors" />
          </RadioGroup>
        </Field>
        <Field
          label="REST endpoint hostname"
          hint="From Settings > Developer in ActiveCampaign, e.g. youraccount.api-us1.com (a pasted URL is fine)"
          required
          {...fieldState(error, "hostname")}
        >
          <Input
            value={hostname}
            onChange={(_, d) => {
              setHostname(d.value);
              changed();
            }}
          />
        </Field>
        <Field
          label="API key"
          hint={existing ? "Enter the key again to save changes: it is never shown after it is saved" : "Never shown again after it is saved"}
          required
          {...fieldState(error, "apiKey")}
        >
          <Input
            type="password"
            value={apiKey}
            autoComplete="off"
            onChange={(_, d) => {
              setApiKey(d.value);
              changed();
            }}
          />
        </Field>
        <div className={styles.statement}>
          <Text as="p" block weight="semibold">
            Data privacy statement
          </Text>
          <Text as="p" block>{PRIVACY}</Text>
          <Field {...fieldState(error, "consent")}>
            <Checkbox checked={consent} onChange={(_, d) => setConsent(d.checked === true)} label="I agree" />
          </Field>
        </div>
        <div className={styles.actions}>
          <Button onClick={() => connect.mutate()} disabled={!hostname || !apiKey || connect.isPending}>
            Connect
          </Button>
        </div>
        {checked ? (
          <MessageBar intent="success" data-testid="connected">
            <MessageBarBody>
              <MessageBarTitle>Connected</MessageBarTitle>
              ActiveCampaign account {checked.hostname} accepted the key: it belongs to user {checked.user.username}{" "}
              (id {checked.user.id}). Saving records you, {me.name}, as the export user and your consent.
            </MessageBarBody>
          </MessageBar>
        ) : null}
        {current.data ? (
          <Text as="p">
            Export user: {current.data.view.exportUser.name}. Consent given by {current.data.view.consent.by.name} on{" "}
            {when(current.data.view.consent.at)}. Key last verified {when(current.data.view.verifiedAt)}.
          </Text>
        ) : null}
        <ErrorBar error={error} shownFields={["name", "displayName", "usableBy", "hostname", "apiKey", "consent"]} />
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={!checked || save.isPending}>
            Save
          </Button>
          <Button onClick={() => navigate("/connections")}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
