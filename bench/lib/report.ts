// What every scenario returns, and the human table printed from it.
import { round } from './stats.ts';

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  id: string;
  label: string;
  unit: string;
  /** The median over the runs (or the single measurement). */
  value: number;
  runs?: number[];
  target?: Target;
  met?: boolean;
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** "ok", or "not available: <why>" / "failed: <why>". */
  status: string;
  /** What was measured, and how (concurrency, counts, runs, which sink). */
  setup: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
}

export function figure(id: string, label: string, unit: string, runs: number[] | number, target?: Target, note?: string): Figure {
  const list = Array.isArray(runs) ? runs : [runs];
  const sorted = [...list].filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const value = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    id,
    label,
    unit,
    value: round(value),
    ...(list.length > 1 ? { runs: list.map(round) } : {}),
    ...(target === undefined
      ? {}
      : { target, met: Number.isFinite(value) && (target.op === '>=' ? value >= target.value : value <= target.value) }),
    ...(note === undefined ? {} : { note }),
  };
}

function formatValue(f: Figure): string {
  if (!Number.isFinite(f.value)) return 'n/a';
  return `${f.value.toLocaleString('en-US')} ${f.unit}`.trim();
}

export function table(results: ScenarioResult[]): string {
  const rows: string[][] = [['', 'figure', 'value (median)', 'target', 'met']];
  for (const result of results) {
    rows.push([`(${result.id})`, result.title, result.status === 'ok' ? '' : result.status, '', '']);
    for (const f of result.figures) {
      rows.push([
        '',
        `  ${f.label}`,
        formatValue(f),
        f.target === undefined ? '' : `${f.target.op} ${f.target.value.toLocaleString('en-US')}`,
        f.met === undefined ? '' : f.met ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Markdown version of the table, for RESULTS.md. */
export function markdownTable(results: ScenarioResult[]): string {
  const lines = ['| scenario | figure | value (median) | target | met |', '|---|---|---|---|---|'];
  for (const result of results) {
    if (result.status !== 'ok') lines.push(`| (${result.id}) ${result.title} | ${result.status} | | | |`);
    for (const f of result.figures) {
      lines.push(
        `| (${result.id}) | ${f.label} | ${formatValue(f)} | ${f.target === undefined ? '' : `${f.target.op} ${f.target.value.toLocaleString('en-US')}`} | ${f.met === undefined ? '' : f.met ? 'yes' : '**no**'} |`,
      );
    }
  }
  return lines.join('\n');
}
