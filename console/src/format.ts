import cronstrue from "cronstrue";

const numbers = new Intl.NumberFormat("en-US");
export const count = (n: number | undefined | null) => numbers.format(n ?? 0);

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** 'refresh', 'manual' or a cron expression (UTC), in words. */
export function scheduleText(schedule: string | undefined): string {
  if (!schedule || schedule === "refresh") return "When Customer Insights writes a new snapshot";
  if (schedule === "manual") return "Manual only";
  return `${cronText(schedule) ?? schedule} (UTC)`;
}

export function cronText(expression: string): string | null {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return null;
  }
}
