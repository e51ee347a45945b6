// One row per measured figure, printed as it is measured and collected into the markdown table.
import { describe, machine } from './machine.js';
import { fmt } from './stats.js';

export interface Row {
  scenario: string;
  /** What was measured, e.g. `aedes p50` or `N=100`. */
  case: string;
  figure: number;
  unit: string;
  /** Name of the baseline measured in the same run, e.g. `raw mqtt.js echo`. */
  baselineName?: string;
  baseline?: number;
  /** figure / baseline, computed here so every scenario means the same by it. */
  ratio?: number;
  /** The issue's target for this row, in words (`≤ 1.5×`, `< 2 ms`). */
  target?: string;
  /** Whether the target is met; undefined when the row has no target. */
  met?: boolean;
  runs: number;
  note?: string;
}

export type RowInput = Omit<Row, 'ratio' | 'scenario'>;

export class Report {
  readonly rows: Row[] = [];
  readonly skipped: string[] = [];
  /** Scenarios cut off at their time share: rows their still-running work adds later are marked. */
  private readonly cutOff = new Set<string>();

  /** From now on rows of `scenario` are late: measured after it was reported failed. */
  cut(scenario: string): void {
    this.cutOff.add(scenario);
  }

  /** Records a row and prints it with the machine line, as the issue asks of every scenario. */
  add(scenario: string, r: RowInput): Row {
    const ratio = r.baseline !== undefined && r.baseline > 0 ? r.figure / r.baseline : undefined;
    const late = this.cutOff.has(scenario) ? 'LATE: measured after the scenario passed its time share' : undefined;
    const row: Row = { scenario, ...r, ratio, note: late ? [late, r.note].filter(Boolean).join('; ') : r.note };
    this.rows.push(row);
    const base = r.baselineName ? ` | baseline ${r.baselineName}: ${fmt(r.baseline)} ${r.unit} | ratio ${fmt(ratio)}×` : '';
    const verdict = r.target ? ` | target ${r.target}: ${r.met ? 'met' : 'MISSED'}` : '';
    console.log(`  ${scenario} ${r.case}: ${fmt(r.figure)} ${r.unit}${base}${verdict} | runs ${r.runs}${row.note ? ` | ${row.note}` : ''}`);
    return row;
  }

  skip(scenario: string, why: string): void {
    this.skipped.push(`${scenario}: ${why}`);
    console.log(`  ${scenario} skipped: ${why}`);
  }

  markdown(startMachine = describe(machine())): string {
    const lines = [
      `Machine: ${startMachine}`,
      '',
      '| scenario | case | conplyent | baseline | baseline value | ratio | target | runs | note |',
      '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const r of this.rows) {
      const target = r.target ? `${r.target} ${r.met ? '✅ met' : '❌ missed'}` : '';
      lines.push(
        `| ${r.scenario} | ${r.case} | ${fmt(r.figure)} ${r.unit} | ${r.baselineName ?? ''} | ${r.baseline !== undefined ? `${fmt(r.baseline)} ${r.unit}` : ''} | ${r.ratio !== undefined ? `${fmt(r.ratio)}×` : ''} | ${target} | ${r.runs} | ${r.note ?? ''} |`,
      );
    }
    for (const s of this.skipped) lines.push('', `Skipped: ${s}`);
    return lines.join('\n') + '\n';
  }
}

/** Prints the machine line that opens every scenario's output. */
export function banner(scenario: string): void {
  console.log(`\n== ${scenario} == ${describe(machine())}`);
}
