/**
 * Progress of a long command on stderr: on a terminal one line redrawn in
 * place (`\r`) at most 10 times a second; otherwise (a log file, CI) a plain
 * line every 5 seconds.
 */
import { count, type CliIo } from './cli-io.ts';

const REDRAW_MS = 100;
const LOG_EVERY_MS = 5000;
const BAR_WIDTH = 30;

export class Progress {
  private done = 0;
  private lastDraw = 0;

  constructor(private readonly io: CliIo, private readonly label: string, private readonly total: number) {
    // The bar shows at once; the plain lines start after the first interval.
    if (!io.isTTY) this.lastDraw = Date.now();
  }

  /** `n` more items done. */
  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw < (this.io.isTTY ? REDRAW_MS : LOG_EVERY_MS)) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Ends the redrawn line (a terminal) so the next output starts on its own line. */
  finish(): void {
    if (this.io.isTTY && this.total > 0) {
      this.draw();
      this.io.stderr('\n');
    }
  }

  private draw(): void {
    const shown = Math.min(this.done, this.total);
    const ratio = this.total > 0 ? shown / this.total : 1;
    const text = `${this.label}: ${count(shown)} of ${count(this.total)} (${Math.floor(ratio * 100)} %)`;
    if (this.io.isTTY) {
      const filled = Math.round(ratio * BAR_WIDTH);
      this.io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${text}`);
    } else {
      this.io.stderr(`${text}\n`);
    }
  }
}
