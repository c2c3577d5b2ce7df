// Every read the pages make, through react-query (cached, refetched after a change, polled while a run is live).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type RunView } from "./api/client";
import { useAccess } from "./auth";

export const FINAL = new Set(["Succeeded", "PartiallySucceeded", "Failed", "Canceled", "Skipped"]);
export const isLive = (run: RunView | undefined) => run !== undefined && !FINAL.has(run.status);
const LIVE_POLL_MS = 1000;

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: async () => unwrap(await api.GET("/me")) });
}

export function useExports() {
  return useQuery({ queryKey: ["exports"], queryFn: async () => unwrap(await api.GET("/exports")) });
}

export function useExport(name: string) {
  return useQuery({
    queryKey: ["exports", name],
    queryFn: async () => {
      const result = await api.GET("/exports/{name}", { params: { path: { name } } });
      return { view: unwrap(result), etag: result.response.headers.get("ETag") };
    },
  });
}

export function useRuns(name: string, limit = 20) {
  return useQuery({
    queryKey: ["runs", name, limit],
    queryFn: async () =>
      unwrap(await api.GET("/exports/{name}/runs", { params: { path: { name }, query: { limit } } })),
    refetchInterval: (query) => (query.state.data?.items.some(isLive) ? LIVE_POLL_MS : false),
  });
}

export function useRun(name: string, runId: string) {
  return useQuery({
    queryKey: ["run", name, runId],
    queryFn: async () =>
      unwrap(await api.GET("/exports/{name}/runs/{runId}", { params: { path: { name, runId } } })),
    refetchInterval: (query) => (query.state.data === undefined || isLive(query.state.data) ? LIVE_POLL_MS : false),
  });
}

/** Admins: every connection with its details; contributors: the shared ones by name.  Viewers: none (403). */
export function useConnections() {
  const { canListConnections } = useAccess();
  return useQuery({
    queryKey: ["connections"],
    enabled: canListConnections,
    queryFn: async () => unwrap(await api.GET("/connections")),
  });
}

/** Names of the connections the caller may use: an export on another is not theirs to change. */
export function useUsableConnectionNames(): Set<string> {
  const { data } = useConnections();
  return new Set((data?.items ?? []).map((c) => c.name));
}

export function useAccountLists(connection: string) {
  return useQuery({
    queryKey: ["lists", connection],
    enabled: connection !== "",
    queryFn: async () =>
      unwrap(await api.GET("/connections/{name}/lists", { params: { path: { name: connection } } })),
  });
}

export function useAccountFields(connection: string) {
  return useQuery({
    queryKey: ["fields", connection],
    enabled: connection !== "",
    queryFn: async () =>
      unwrap(await api.GET("/connections/{name}/fields", { params: { path: { name: connection } } })),
  });
}

export function useSegments(root: string) {
  return useQuery({
    queryKey: ["segments", root],
    queryFn: async () => unwrap(await api.GET("/segments", { params: { query: root ? { root } : {} } })),
  });
}
