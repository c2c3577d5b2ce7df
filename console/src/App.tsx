import {
  Button,
  Link,
  Tab,
  TabList,
  Text,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import {
  Navigate,
  Outlet,
  RouterProvider,
  createBrowserRouter,
  useLocation,
  useNavigate,
} from "react-router";
import { AccessContext, accessOf, useAccess } from "./auth";
import { ErrorBar, Loading } from "./components/common";
import { ConnectionForm } from "./pages/ConnectionForm";
import { ConnectionsPage } from "./pages/Connections";
import { ExportForm } from "./pages/ExportForm";
import { ExportPage } from "./pages/ExportPage";
import { ExportsPage } from "./pages/Exports";
import { NotFound } from "./pages/NotFound";
import { RunPage } from "./pages/RunPage";
import { SignInPage } from "./pages/SignIn";
import { useMe } from "./queries";
import { setLocalPrincipal } from "./signin";

export const BASENAME = "/api/console";

const useStyles = makeStyles({
  shell: { display: "flex", flexDirection: "column", minHeight: "100vh" },
  bar: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL}`,
    backgroundColor: tokens.colorNeutralBackground3,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    flexWrap: "wrap",
  },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400 },
  nav: { flexGrow: 1 },
  who: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalS },
  main: {
    padding: `${tokens.spacingVerticalXL} ${tokens.spacingHorizontalXXL}`,
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalL,
    maxWidth: "1200px",
    width: "100%",
    boxSizing: "border-box",
  },
});

function Shell() {
  const styles = useStyles();
  const access = useAccess();
  const navigate = useNavigate();
  const location = useLocation();
  const queries = useQueryClient();
  const section = location.pathname.startsWith("/connections") ? "connections" : "exports";
  const role = (access.me.roles ?? []).join(", ") || "no app role";

  const signOut = () => {
    if (access.me.localSignIn) {
      setLocalPrincipal(null);
      queries.clear();
      navigate("/sign-in");
    } else {
      window.location.assign("/.auth/logout");
    }
  };

  return (
    <div className={styles.shell}>
      <header className={styles.bar}>
        <Text className={styles.brand}>Segment export to ActiveCampaign</Text>
        <nav className={styles.nav} aria-label="Sections">
          <TabList selectedValue={section} onTabSelect={(_, data) => navigate(`/${String(data.value)}`)}>
            <Tab value="exports">Exports</Tab>
            {access.canListConnections ? <Tab value="connections">Connections</Tab> : null}
          </TabList>
        </nav>
        <div className={styles.who}>
          <Text data-testid="signed-in-as">
            {access.me.name} ({role})
          </Text>
          <Button appearance="subtle" onClick={signOut}>
            {access.me.localSignIn ? "Switch user" : "Sign out"}
          </Button>
        </div>
      </header>
      <main className={styles.main}>
        <Outlet />
      </main>
    </div>
  );
}

/** Signed in: the console.  Not signed in: the local picker where allowed, else the way to sign in. */
function Gate() {
  const me = useMe();
  const location = useLocation();
  const access = useMemo(() => (me.data ? accessOf(me.data) : null), [me.data]);
  if (me.isPending) return <Loading label="Loading…" />;
  if (me.error || !me.data || !access) return <ErrorBar error={me.error} />;
  if (!me.data.signedIn) {
    if (me.data.localSignIn) return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
    return (
      <main>
        <Text as="p">
          You are not signed in ({me.data.reason}). <Link href="/.auth/login/aad?post_login_redirect_uri=/api/console/">Sign in</Link>
        </Text>
      </main>
    );
  }
  return (
    <AccessContext.Provider value={access}>
      <Shell />
    </AccessContext.Provider>
  );
}

const router = createBrowserRouter(
  [
    { path: "/sign-in", element: <SignInPage /> },
    {
      element: <Gate />,
      children: [
        { index: true, element: <Navigate to="/exports" replace /> },
        { path: "exports", element: <ExportsPage /> },
        { path: "exports/new", element: <ExportForm /> },
        { path: "exports/:name", element: <ExportPage /> },
        { path: "exports/:name/edit", element: <ExportForm /> },
        { path: "exports/:name/runs/:runId", element: <RunPage /> },
        { path: "connections", element: <ConnectionsPage /> },
        { path: "connections/new", element: <ConnectionForm /> },
        { path: "connections/:name/edit", element: <ConnectionForm /> },
        { path: "*", element: <NotFound /> },
      ],
    },
  ],
  { basename: BASENAME },
);

export function App() {
  return <RouterProvider router={router} />;
}
