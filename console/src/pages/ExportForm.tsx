import {
  Button,
  Combobox,
  Dropdown,
  Field,
  Input,
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Option,
  Radio,
  RadioGroup,
  Switch,
  Text,
  Title3,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { api, unwrap, type ExportRequest, type ExportView } from "../api/client";
import { useAccess } from "../auth";
import { ErrorBar, Loading, PageHeader, fieldState } from "../components/common";
import { Picker, type Choice } from "../components/Picker";
import { cronText } from "../format";
import { useAccountFields, useAccountLists, useConnections, useExport, useSegments } from "../queries";
import { useFormStyles } from "./ConnectionForm";

type Standard = "firstName" | "lastName" | "phone";
const STANDARD: Record<Standard, string> = { firstName: "First name", lastName: "Last name", phone: "Phone" };
interface Extra {
  key: number;
  kind: Standard | "custom";
  attribute: string;
  field: string;
}
type ScheduleKind = "refresh" | "cron" | "manual";

const useStyles = makeStyles({
  extra: { display: "flex", gap: tokens.spacingHorizontalM, alignItems: "end", flexWrap: "wrap" },
  grow: { flexGrow: 1, minWidth: "220px" },
});

export function ExportForm() {
  const { name: existing } = useParams();
  const current = useExport(existing ?? "");
  if (existing && current.isPending) return <Loading label="Loading the export…" />;
  if (existing && current.error) return <ErrorBar error={current.error} />;
  return <ExportEditor existing={existing} view={current.data?.view} etag={current.data?.etag ?? null} />;
}

function ExportEditor({ existing, view, etag }: { existing?: string; view?: ExportView; etag: string | null }) {
  const styles = { ...useFormStyles(), ...useStyles() };
  const { canWrite } = useAccess();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const connections = useConnections();
  const [name, setName] = useState(existing ?? "");
  const [connection, setConnection] = useState(view?.connection ?? "");
  const [listId, setListId] = useState(view ? String(view.listId) : "");
  const [root, setRoot] = useState(view?.snapshotRoot ?? "");
  const [segments, setSegments] = useState<string[]>(view?.segments ?? []);
  const [typedSegments, setTypedSegments] = useState((view?.segments ?? []).join(", "));
  const [email, setEmail] = useState(view?.mapping.email ?? "");
  const [extras, setExtras] = useState<Extra[]>(() => initialExtras(view));
  const [tags, setTags] = useState((view?.tags ?? []).join(", "));
  const initialSchedule = view?.schedule ?? "refresh";
  const [scheduleKind, setScheduleKind] = useState<ScheduleKind>(
    initialSchedule === "refresh" || initialSchedule === "manual" ? initialSchedule : "cron",
  );
  const [cron, setCron] = useState(scheduleKind === "cron" ? initialSchedule : "0 6 * * *");
  const [syncMode, setSyncMode] = useState(view?.syncMode ?? "upsert");
  const [leaverAction, setLeaverAction] = useState(view?.leaverAction ?? "unsubscribe");
  const [guard, setGuard] = useState(String(view?.maxRemovalPercent ?? 10));
  const [excludeAutomations, setExcludeAutomations] = useState(view?.excludeAutomations ?? false);
  const [enabled, setEnabled] = useState(view?.enabled ?? true);

  const lists = useAccountLists(connection);
  const fields = useAccountFields(connection);
  const catalogue = useSegments(root.trim());
  const known = catalogue.data?.items ?? [];
  const useTyped = catalogue.isSuccess && known.length === 0;
  const chosen = useTyped ? splitList(typedSegments) : segments;
  const attributes = useMemo(() => {
    const names = known.filter((s) => chosen.includes(s.name)).flatMap((s) => s.attributes);
    return [...new Set(names)].map((a): Choice => ({ value: a, text: a }));
  }, [known, chosen]);

  useEffect(() => {
    const only = connections.data?.items;
    if (!connection && only && only.length === 1 && only[0]) setConnection(only[0].name);
  }, [connections.data, connection]);

  const save = useMutation({
    mutationFn: async () => {
      const body = requestBody();
      const header = etag ? { "If-Match": etag } : { "If-None-Match": "*" };
      return unwrap(await api.PUT("/exports/{name}", { params: { path: { name }, header }, body }));
    },
    onSuccess: async (saved) => {
      await queries.invalidateQueries({ queryKey: ["exports"] });
      navigate(`/exports/${saved.name}`, { state: { warnings: saved.warnings ?? [] } });
    },
  });
  const error = save.error;

  function requestBody(): ExportRequest {
    const pick = (kind: Standard) => extras.find((e) => e.kind === kind)?.attribute || null;
    return {
      connection,
      listId: Number.parseInt(listId, 10),
      segments: chosen,
      mapping: {
        email,
        firstName: pick("firstName"),
        lastName: pick("lastName"),
        phone: pick("phone"),
        customFields: extras.filter((e) => e.kind === "custom").map((e) => ({ attribute: e.attribute, field: e.field })),
      },
      tags: splitList(tags),
      schedule: scheduleKind === "cron" ? cron : scheduleKind,
      syncMode,
      leaverAction,
      maxRemovalPercent: Number(guard),
      excludeAutomations,
      snapshotRoot: root.trim() || null,
      enabled,
    };
  }

  if (!canWrite) return <ErrorBar error="Viewers cannot change exports." />;
  const listChoices = (lists.data?.items ?? []).map((l): Choice => ({ value: l.id, text: `${l.name} (${l.id})` }));
  const fieldChoices = (fields.data?.items ?? []).map((f): Choice => ({ value: f.id, text: `${f.title} (${f.id})` }));
  const customIndex = (key: number) => extras.filter((e) => e.kind === "custom").findIndex((e) => e.key === key);
  const preview = scheduleKind === "cron" ? cronText(cron) : null;
  const update = (key: number, change: Partial<Extra>) =>
    setExtras(extras.map((e) => (e.key === key ? { ...e, ...change } : e)));
  const add = (kind: Extra["kind"]) =>
    setExtras([...extras, { key: Math.max(0, ...extras.map((e) => e.key)) + 1, kind, attribute: "", field: "" }]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <>
      <PageHeader title={existing ? `Edit export ${existing}` : "Add export"} />
      <form className={styles.form} onSubmit={submit} aria-label="Export">
        <Field label="Name" hint="Used in URLs: letters, digits, '-', '_' or '.'" required {...fieldState(error, "name")}>
          <Input value={name} onChange={(_, d) => setName(d.value)} disabled={existing !== undefined} />
        </Field>
        <Field label="Connection" required {...fieldState(error, "connection")}>
          <Dropdown
            value={connections.data?.items.find((c) => c.name === connection)?.displayName ?? connection}
            selectedOptions={connection ? [connection] : []}
            onOptionSelect={(_, d) => {
              setConnection(d.optionValue ?? "");
              setListId("");
            }}
            placeholder={connections.isPending ? "Loading…" : "Pick a connection"}
          >
            {(connections.data?.items ?? []).map((c) => (
              <Option key={c.name} value={c.name} text={c.displayName}>
                {`${c.displayName} (${c.name})`}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <ErrorBar error={lists.error ?? fields.error} />
        <Picker
          label="ActiveCampaign list"
          hint="Pick a list of the connection's account, or type its id"
          required
          value={listId}
          choices={listChoices}
          onChange={setListId}
          placeholder={connection ? (lists.isPending ? "Loading lists…" : "Pick a list") : "Pick a connection first"}
          validation={fieldState(error, "listId")}
        />
        <Title3 as="h2">Segments</Title3>
        <Field
          label="Snapshot root"
          hint="The folder that holds model.json; empty uses the app's SNAPSHOT_ROOT"
          {...fieldState(error, "snapshotRoot")}
        >
          <Input value={root} onChange={(_, d) => setRoot(d.value)} placeholder="(the app's default)" />
        </Field>
        <ErrorBar error={catalogue.error} />
        {useTyped ? (
          <Field
            label="Segments"
            hint={`${catalogue.data?.note ?? ""} Separate names with commas.`}
            required
            {...fieldState(error, "segments")}
          >
            <Input value={typedSegments} onChange={(_, d) => setTypedSegments(d.value)} />
          </Field>
        ) : (
          <Field label="Segments" hint="From the snapshot's model.json" required {...fieldState(error, "segments")}>
            <Combobox
              multiselect
              selectedOptions={segments}
              value={segments.join(", ")}
              placeholder={catalogue.isPending ? "Loading segments…" : "Pick one or more segments"}
              onOptionSelect={(_, d) => setSegments(d.selectedOptions)}
            >
              {known.map((s) => (
                <Option key={s.name} value={s.name}>
                  {s.name}
                </Option>
              ))}
            </Combobox>
          </Field>
        )}
        <Title3 as="h2">Data matching</Title3>
        <Picker
          label="Email"
          hint="The attribute holding the contact's email (required)"
          required
          value={email}
          choices={attributes}
          onChange={setEmail}
          placeholder="Pick the email attribute"
          validation={fieldState(error, "mapping.email")}
        />
        {extras.map((extra) => {
          const path =
            extra.kind === "custom" ? `mapping.customFields.${customIndex(extra.key)}` : `mapping.${extra.kind}`;
          const label = extra.kind === "custom" ? "Custom field" : STANDARD[extra.kind];
          return (
            <div key={extra.key} className={styles.extra} role="group" aria-label={label}>
              <div className={styles.grow}>
                <Picker
                  label={`${label}: attribute`}
                  value={extra.attribute}
                  choices={attributes}
                  onChange={(attribute) => update(extra.key, { attribute })}
                  validation={fieldState(error, extra.kind === "custom" ? `${path}.attribute` : path)}
                />
              </div>
              {extra.kind === "custom" ? (
                <div className={styles.grow}>
                  <Picker
                    label="ActiveCampaign field"
                    value={extra.field}
                    choices={fieldChoices}
                    onChange={(field) => update(extra.key, { field })}
                    validation={fieldState(error, `${path}.field`)}
                  />
                </div>
              ) : null}
              <Button onClick={() => setExtras(extras.filter((e) => e.key !== extra.key))}>Remove {label.toLowerCase()}</Button>
            </div>
          );
        })}
        <Menu>
          <MenuTrigger disableButtonEnhancement>
            <Button style={{ alignSelf: "flex-start" }}>Add attribute</Button>
          </MenuTrigger>
          <MenuPopover>
            <MenuList>
              {(Object.keys(STANDARD) as Standard[]).map((kind) => (
                <MenuItem key={kind} disabled={extras.some((e) => e.kind === kind)} onClick={() => add(kind)}>
                  {STANDARD[kind]}
                </MenuItem>
              ))}
              <MenuItem onClick={() => add("custom")}>Custom field</MenuItem>
            </MenuList>
          </MenuPopover>
        </Menu>
        <Field label="Tags" hint="Added to every contact sent; separate with commas" {...fieldState(error, "tags")}>
          <Input value={tags} onChange={(_, d) => setTags(d.value)} />
        </Field>
        <Title3 as="h2">Schedule and sync</Title3>
        <Field label="Schedule" {...fieldState(error, "schedule")}>
          <RadioGroup value={scheduleKind} onChange={(_, d) => setScheduleKind(d.value as ScheduleKind)}>
            <Radio value="refresh" label="Refresh: whenever Customer Insights writes a new snapshot" />
            <Radio value="cron" label="On a schedule (cron, UTC)" />
            <Radio value="manual" label="Manual only" />
          </RadioGroup>
        </Field>
        {scheduleKind === "cron" ? (
          <Field
            label="Cron expression"
            hint={preview ? `${preview} (UTC)` : "Five fields: minute hour day-of-month month day-of-week"}
            {...fieldState(error, "schedule")}
          >
            <Input value={cron} onChange={(_, d) => setCron(d.value)} />
          </Field>
        ) : null}
        <Field label="Sync mode" {...fieldState(error, "syncMode")}>
          <RadioGroup value={syncMode} onChange={(_, d) => setSyncMode(d.value as typeof syncMode)}>
            <Radio value="upsert" label="Upsert: add and update the segment's members" />
            <Radio value="mirror" label="Mirror: also act on people who left the segment" />
          </RadioGroup>
        </Field>
        {syncMode === "mirror" ? (
          <>
            <Field label="People who leave the segment" {...fieldState(error, "leaverAction")}>
              <RadioGroup value={leaverAction} onChange={(_, d) => setLeaverAction(d.value as typeof leaverAction)}>
                <Radio value="unsubscribe" label="Unsubscribe them from the list" />
                <Radio value="none" label="Leave them on the list" />
              </RadioGroup>
            </Field>
            <Field
              label="Mass-removal guard (%)"
              hint="A run stops without removing anyone if more than this share of the list would be removed"
              {...fieldState(error, "maxRemovalPercent")}
            >
              <Input type="number" min={0} max={100} value={guard} onChange={(_, d) => setGuard(d.value)} />
            </Field>
          </>
        ) : null}
        <Switch
          checked={excludeAutomations}
          onChange={(_, d) => setExcludeAutomations(d.checked)}
          label="Exclude the contacts from ActiveCampaign automations"
        />
        <Switch checked={enabled} onChange={(_, d) => setEnabled(d.checked)} label="Enabled (scheduled)" />
        <Text size={200}>Saving checks the list and fields with ActiveCampaign and the attributes with the snapshot; it does not run the export.</Text>
        <ErrorBar
          error={error}
          shownFields={[
            "name",
            "connection",
            "listId",
            "snapshotRoot",
            "segments",
            "mapping",
            "tags",
            "schedule",
            "syncMode",
            "leaverAction",
            "maxRemovalPercent",
          ]}
        />
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={save.isPending}>
            Save
          </Button>
          <Button onClick={() => navigate(existing ? `/exports/${existing}` : "/exports")}>Cancel</Button>
        </div>
      </form>
    </>
  );
}

function initialExtras(view?: ExportView): Extra[] {
  if (!view) return [];
  const mapping = view.mapping;
  const extras: Extra[] = [];
  for (const kind of Object.keys(STANDARD) as Standard[]) {
    const attribute = mapping[kind];
    if (attribute) extras.push({ key: extras.length + 1, kind, attribute, field: "" });
  }
  for (const custom of mapping.customFields ?? []) {
    extras.push({ key: extras.length + 1, kind: "custom", attribute: custom.attribute, field: custom.field });
  }
  return extras;
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}
