import { describe, expect, it } from 'vitest';
import { formatLimit, parseDuration, startDeadline } from '../../src/tiktoken/deadline.js';

describe('parseDuration', () => {
  it.each([
    ['600', 600_000],
    ['90s', 90_000],
    ['20m', 1_200_000],
    ['20min', 1_200_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['596h', 596 * 3_600_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text, '--deadline')).toBe(ms);
  });

  it.each(['', '0', '-5m', '10 minutes', '1d', 'soon'])(
    'refuses "%s" with EUSAGE naming where it came from',
    (text) => {
      expect(() => parseDuration(text, 'OFFLINE_TIKTOKEN_DEADLINE')).toThrow(
        expect.objectContaining({
          code: 'EUSAGE',
          message: `OFFLINE_TIKTOKEN_DEADLINE "${text}": not a duration`,
        }),
      );
    },
  );

  it('refuses more than a timer can wait (24 days), which would end the work at once', () => {
    expect(() => parseDuration('1000h', '--deadline')).toThrow(
      expect.objectContaining({ code: 'EUSAGE', message: '--deadline "1000h": longer than 24 days' }),
    );
  });
});

describe('formatLimit', () => {
  it.each([
    [500, '500 ms'],
    [30_000, '30 s'],
    [600_000, '10 min'],
    [90_000, '90 s'],
    [7_200_000, '2 h'],
    [5_400_000, '90 min'],
  ])('%i ms reads "%s"', (ms, text) => {
    expect(formatLimit(ms)).toBe(text);
  });
});

describe('startDeadline', () => {
  it('aborts with ETIMEOUT naming the deadline once it passes, and not before', async () => {
    const deadline = startDeadline(50, 'the test', 'wait longer');
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.remainingMs()).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.signal.reason).toMatchObject({
      code: 'ETIMEOUT',
      message: 'the overall deadline of 50 ms for the test passed',
      hint: 'wait longer',
    });
  });

  it('a cleared deadline never fires', async () => {
    const deadline = startDeadline(20, 'the test');
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(deadline.signal.aborted).toBe(false);
  });
});
