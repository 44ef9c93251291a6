/** One line of the results table. Targets are reported, never asserted: the bench exits 0 on a miss. */
export interface Row {
  section: string;
  scenario: string;
  rps?: number;
  p50?: number;
  p99?: number;
  /** Name of what this row is compared with. */
  baseline?: string;
  ratio?: number;
  /** Shown instead of the ratio when the row is a plain value (MB, ms). */
  value?: string;
  target?: string;
  result?: 'pass' | 'miss' | 'info' | 'skip';
  note?: string;
}

export type Verdict = NonNullable<Row['result']>;

export const atLeast = (value: number, min: number): Verdict => (Number.isFinite(value) ? (value >= min ? 'pass' : 'miss') : 'miss');
export const atMost = (value: number, max: number): Verdict => (Number.isFinite(value) ? (value <= max ? 'pass' : 'miss') : 'miss');
export const within = (value: number, low: number, high: number): Verdict =>
  Number.isFinite(value) ? (value >= low && value <= high ? 'pass' : 'miss') : 'miss';

function num(value: number | undefined, digits: number): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function rpsText(value: number | undefined): string {
  if (value === undefined) return '-';
  return num(value, value < 100 ? 1 : 0);
}

function msText(value: number | undefined): string {
  if (value === undefined) return '-';
  return num(value, value < 10 ? 2 : value < 100 ? 1 : 0);
}

const HEADERS = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'baseline', 'ratio', 'target', 'result'];

function cells(row: Row): string[] {
  return [
    row.scenario,
    rpsText(row.rps),
    msText(row.p50),
    msText(row.p99),
    row.baseline ?? '-',
    row.value ?? (row.ratio === undefined ? '-' : num(row.ratio, 2)),
    row.target ?? '-',
    row.result ?? 'info',
  ];
}

/** The table as fixed-width text (stdout). */
export function textTable(rows: Row[]): string {
  const all = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const right = new Set([1, 2, 3, 5]);
  const line = (r: string[]): string => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const out: string[] = [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  ')];
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out.push(`[${section}]`);
    }
    out.push(line(cells(row)));
  }
  return out.join('\n');
}

/** The table as Markdown (bench/RESULTS.md, README "Performance"). */
export function markdownTable(rows: Row[]): string {
  const escape = (c: string): string => c.replace(/\|/g, '\\|');
  const out = [`| section | ${HEADERS.join(' | ')} |`, `|${' --- |'.repeat(HEADERS.length + 1)}`];
  for (const row of rows) out.push(`| ${row.section} | ${cells(row).map(escape).join(' | ')} |`);
  return out.join('\n');
}

export function notes(rows: Row[]): string[] {
  return rows.filter((r) => r.note).map((r) => `${r.section} / ${r.scenario}: ${r.note}`);
}
