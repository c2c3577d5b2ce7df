import { LineChart } from "@fluentui/react-charts";
import { Text, tokens } from "@fluentui/react-components";
import type { RunView } from "../api/client";

/** Sent, confirmed and rejected over time: the run's samples (one per completed shard), from its planned time. */
export function RunChart({ run }: { run: RunView }) {
  const samples = run.samples ?? [];
  if (samples.length === 0) return <Text as="p">The chart starts when the first shard completes.</Text>;
  const start = Date.parse(run.timings.plannedAt ?? run.timings.queuedAt);
  const seconds = (iso: string) => Math.max(0, (Date.parse(iso) - start) / 1000);
  const series = (key: "sent" | "confirmed" | "rejected") => [
    { x: 0, y: 0 },
    ...samples.map((s) => ({ x: seconds(s.at), y: s[key] })),
  ];
  return (
    <figure style={{ margin: 0 }} aria-label="Sent, confirmed and rejected over time">
      <LineChart
        height={240}
        width={720}
        xAxisTitle="Seconds since the run was planned"
        yAxisTitle="Contacts"
        data={{
          chartTitle: "Contacts over time",
          lineChartData: [
            { legend: "Sent", data: series("sent"), color: tokens.colorPaletteBlueBorderActive },
            { legend: "Confirmed", data: series("confirmed"), color: tokens.colorPaletteGreenBorderActive },
            { legend: "Rejected", data: series("rejected"), color: tokens.colorPaletteRedBorderActive },
          ],
        }}
      />
    </figure>
  );
}
