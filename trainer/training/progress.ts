/** Training progress: a one-line bar on a TTY, JSON lines otherwise (for logs and other programs). */
import type { CurveRow } from './train.js';

export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export function progressReporter(
  sink: ProgressSink,
  totalSteps: number,
): { onEval(row: CurveRow): void; done(): void } {
  if (sink.isTTY === true) {
    let drawn = false;
    return {
      onEval(row) {
        const width = 30;
        const filled = Math.round((width * row.step) / totalSteps);
        const bar = `${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}`;
        sink.write(
          `\r[${bar}] ${row.step}/${totalSteps} val ${row.val_total.toFixed(4)} edges ${row.edges} ${row.wall_s.toFixed(1)}s`,
        );
        drawn = true;
      },
      done() {
        if (drawn) sink.write('\n');
      },
    };
  }
  return {
    onEval(row) {
      sink.write(`${JSON.stringify({ event: 'eval', total_steps: totalSteps, ...row })}\n`);
    },
    done() {},
  };
}
