import { describe, expect, it } from 'vitest';
import { formatBytes, formatSeconds, ProgressLine } from '../../src/cli/progress-line.js';

const MiB = 1024 * 1024;

/** A progress line on a fake clock, writing to a string. */
function line(isTTY: boolean, total: number | undefined) {
  let now = 0;
  let written = '';
  const progress = new ProgressLine(
    'demo.offline.tar.gz',
    total,
    {
      isTTY,
      write: (text) => {
        written += text;
      },
    },
    { now: () => now, terminalMs: 250, logMs: 15_000 },
  );
  return {
    progress,
    at: (ms: number, bytes: number) => {
      now = ms;
      progress.update(bytes);
    },
    written: () => written,
  };
}

describe('ProgressLine', () => {
  it('in a log: one line per interval, with the share, the rate and the time left; nothing for a short read', () => {
    const log = line(false, 400 * MiB);
    log.at(14_999, 100 * MiB);
    expect(log.written()).toBe('');
    log.at(15_000, 150 * MiB);
    expect(log.written()).toBe(
      'reading demo.offline.tar.gz: 150 MiB of 400 MiB (37%), 10 MiB/s, about 25 s left\n',
    );
    log.at(29_000, 290 * MiB);
    expect(log.written().split('\n')).toHaveLength(2);
    log.at(30_000, 300 * MiB);
    expect(log.written().split('\n')[1]).toBe(
      'reading demo.offline.tar.gz: 300 MiB of 400 MiB (75%), 10 MiB/s, about 10 s left',
    );
    log.progress.done();
    expect(log.written().endsWith('\n')).toBe(true);
  });

  it('on a terminal: redrawn in place, cleared before another line and at the end, never drawn after done', () => {
    const tty = line(true, 4 * MiB);
    tty.at(100, 1 * MiB);
    expect(tty.written()).toBe('');
    tty.at(1000, 2 * MiB);
    expect(tty.written()).toBe(
      '\r\x1b[Kreading demo.offline.tar.gz: 2.0 MiB of 4.0 MiB (50%), 2.0 MiB/s, about 1 s left',
    );
    tty.progress.clear();
    expect(tty.written().endsWith('left\r\x1b[K')).toBe(true);
    tty.progress.clear();
    expect(tty.written().endsWith('left\r\x1b[K')).toBe(true);
    tty.at(2000, 4 * MiB);
    expect(
      tty.written().endsWith('\r\x1b[Kreading demo.offline.tar.gz: 4.0 MiB of 4.0 MiB (100%), 2.0 MiB/s'),
    ).toBe(true);
    const before = tty.written().length;
    tty.progress.done();
    expect(tty.written().slice(before)).toBe('\r\x1b[K');
    tty.at(9000, 4 * MiB);
    expect(tty.written().length).toBe(before + '\r\x1b[K'.length);
  });

  it('without a total (an extracted folder): bytes and rate only', () => {
    const log = line(false, undefined);
    log.at(20_000, 3 * 1024 * MiB);
    expect(log.written()).toBe('reading demo.offline.tar.gz: 3.0 GiB, 154 MiB/s\n');
  });
});

describe('formatBytes, formatSeconds', () => {
  it('binary units, one decimal below 10', () => {
    expect([0, 1023, 1536, 10 * 1024, 5.25 * 1024 * MiB].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.5 KiB',
      '10 KiB',
      '5.3 GiB',
    ]);
  });

  it('seconds, minutes, hours', () => {
    expect([0.2, 59, 75, 3600, 5400].map(formatSeconds)).toEqual([
      '1 s',
      '59 s',
      '1 min 15 s',
      '1 h 0 min',
      '1 h 30 min',
    ]);
  });
});
