import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Radio,
  RadioGroup,
  Text,
  Title2,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { Loading } from "../components/common";
import { useMe } from "../queries";
import { localPrincipal, setLocalPrincipal, type LocalPrincipal } from "../signin";

const useStyles = makeStyles({
  page: {
    maxWidth: "440px",
    margin: "10vh auto",
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalL,
    padding: tokens.spacingHorizontalXL,
  },
});

/** Local development only (GET /api/me says so): pick a name and an app role; the app refuses it elsewhere. */
export function SignInPage() {
  const styles = useStyles();
  const me = useMe();
  const navigate = useNavigate();
  const location = useLocation();
  const queries = useQueryClient();
  const current = localPrincipal();
  const [name, setName] = useState(current?.name ?? "");
  const [role, setRole] = useState<LocalPrincipal["role"]>(current?.role ?? "Admin");

  if (me.isPending) return <Loading label="Loading…" />;
  if (!me.data?.localSignIn) return <Navigate to="/" replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    setLocalPrincipal({ name: name.trim(), role });
    queries.clear();
    const from = (location.state as { from?: string } | null)?.from;
    navigate(from && from !== "/sign-in" ? from : "/exports");
  };

  return (
    <main className={styles.page}>
      <Title2 as="h1">Sign in (local development)</Title2>
      <MessageBar intent="warning">
        <MessageBarBody>
          This picker exists only because the app runs with local sign-in allowed. In Azure, App Service
          Authentication (Entra ID) signs you in and your app roles come from the app registration.
        </MessageBarBody>
      </MessageBar>
      <form onSubmit={submit} className={styles.page} style={{ margin: 0, padding: 0 }}>
        <Field label="Name" required>
          <Input value={name} onChange={(_, data) => setName(data.value)} autoComplete="username" />
        </Field>
        <Field label="Role">
          <RadioGroup value={role} onChange={(_, data) => setRole(data.value as LocalPrincipal["role"])}>
            <Radio value="Admin" label="Admin: connections, exports and runs" />
            <Radio value="Contributor" label="Contributor: exports and runs on shared connections" />
            <Radio value="Viewer" label="Viewer: reads exports and runs" />
          </RadioGroup>
        </Field>
        <Button appearance="primary" type="submit" disabled={!name.trim()}>
          Sign in
        </Button>
      </form>
      <Text size={200}>The console sends your choice as the X-MS-CLIENT-PRINCIPAL header, as Easy Auth would.</Text>
    </main>
  );
}
