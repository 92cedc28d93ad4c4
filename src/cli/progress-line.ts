/** Where a progress line goes: stderr, and whether it is a terminal (a line redrawn in place) or a log. */
export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

export interface ProgressTiming {
  /** Milliseconds since a fixed point (the process's start; not performance.now, which loads perf_hooks). */
  now(): number;
  /** Least time between two lines: redrawn on a terminal, appended to a log. */
  terminalMs: number;
  logMs: number;
}

/** Makes the progress line of one read: of `total` bytes, or an unknown number. */
export type ProgressFactory = (label: string, total: number | undefined) => ProgressLine;

export const DEFAULT_TIMING: ProgressTiming = {
  now: () => process.uptime() * 1000,
  terminalMs: 250,
  logMs: 15_000,
};

const CLEAR_LINE = '\r\x1b[K';

/**
 * One progress line for a long read: "reading demo-1.0.0.offline.tar.gz: 1.2 GiB of 3.4 GiB (35%), 85 MiB/s,
 * about 26 s left". On a terminal it is redrawn in place a few times a second and cleared before any other
 * line (clear()) and at the end (done()); in a log (stderr not a terminal) one line is appended every
 * logMs, so a long import shows it is alive without flooding the log. A read shorter than that prints nothing.
 */
export class ProgressLine {
  private bytes = 0;
  private readonly started: number;
  private last: number;
  private shown = false;
  private finished = false;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly sink: ProgressSink,
    private readonly timing: ProgressTiming = DEFAULT_TIMING,
  ) {
    this.started = timing.now();
    this.last = this.started;
  }

  /** The bytes read so far; draws the line when its interval has passed. */
  update(bytes: number): void {
    this.bytes = bytes;
    if (this.finished) return;
    const now = this.timing.now();
    if (now - this.last < (this.sink.isTTY ? this.timing.terminalMs : this.timing.logMs)) return;
    this.last = now;
    const text = this.text(now);
    if (this.sink.isTTY) {
      this.sink.write(`${CLEAR_LINE}${text}`);
      this.shown = true;
    } else {
      this.sink.write(`${text}\n`);
    }
  }

  /** Takes the line off a terminal, so another line can be printed; the next update draws it again. */
  clear(): void {
    if (!this.shown) return;
    this.sink.write(CLEAR_LINE);
    this.shown = false;
  }

  /** The read ended: the line goes, and no later update draws it. */
  done(): void {
    this.clear();
    this.finished = true;
  }

  private text(now: number): string {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.bytes / seconds : 0;
    const parts = [
      this.total === undefined
        ? formatBytes(this.bytes)
        : `${formatBytes(this.bytes)} of ${formatBytes(this.total)} (${percent(this.bytes, this.total)}%)`,
      `${formatBytes(rate)}/s`,
    ];
    if (this.total !== undefined && rate > 0 && this.bytes < this.total) {
      parts.push(`about ${formatSeconds((this.total - this.bytes) / rate)} left`);
    }
    return `reading ${this.label}: ${parts.join(', ')}`;
  }
}

function percent(bytes: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((bytes / total) * 100)) : 100;
}

/** 1536 -> "1.5 KiB"; binary units, one decimal below 10 and none above. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** 75 -> "1 min 15 s"; under a minute in seconds, from an hour on in hours and minutes. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
