import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../src/dashboards/format.js';
import { renderTable } from '../src/cli/table.js';
import type { Figure, ScenarioResult } from './context.js';
import type { MachineInfo } from './machine.js';
import type { ScaleName } from '../examples/demo/seed/index.js';

/** The JSON written per run (`bench/results/<timestamp>.json`). */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  scale: ScaleName;
  quick: boolean;
  database: { name: string; seededThisRun: boolean; seedMs: number | null; seededAt: string };
  machine: MachineInfo;
  scenarios: Record<string, ScenarioResult>;
}

function formatValue(figure: Figure): string {
  const { value, unit } = figure;
  switch (unit) {
    case 'bytes':
      return formatBytes(Math.max(0, value)) + (value < 0 ? ' (−)' : '');
    case 'µs':
      return `${figure.value.toFixed(2)} µs`;
    case 'ms':
      return `${value < 10 ? value.toFixed(2) : value < 1000 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} ms`;
    case 'x':
      return `${value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US')}×`;
    case 'events/s':
      return `${Math.round(value).toLocaleString('en-US')}/s`;
    case 's':
      return `${value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} s`;
    case '%':
      return `${value.toFixed(1)} %`;
    default:
      return Math.round(value).toLocaleString('en-US');
  }
}

/** One table per scenario: figure, value, key (the key is what the JSON and the README use). */
export function renderReport(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    `mvfleet bench — ${report.startedAt} — scale ${report.scale}${report.quick ? ' (quick)' : ''}`,
    `${machine.cpus} × ${machine.cpuModel}, ${formatBytes(machine.memoryBytes)} RAM, load ${machine.loadAverage.join(' ')}; ` +
      `Node ${machine.node}, PostgreSQL ${machine.postgres} (autovacuum ${machine.autovacuum}), Redis ${machine.redis}, BullMQ ${machine.bullmq}`,
    '',
  ];
  for (const result of Object.values(report.scenarios)) {
    const load = `load ${result.load.start.join(' ')} → ${result.load.end.join(' ')}`;
    lines.push(`## ${result.scenario} (${(result.durationMs / 1000).toFixed(1)} s, ${load})`);
    const rows = Object.entries(result.figures).map(([key, figure]) => [figure.label, formatValue(figure), key]);
    lines.push(renderTable(['figure', 'value', 'key'], rows).trimEnd());
    for (const note of result.notes) lines.push(`  · ${note}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes the report as `<dir>/<timestamp>.json` and returns the path. */
export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
