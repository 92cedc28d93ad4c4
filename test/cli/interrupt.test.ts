import { describe, expect, it } from 'vitest';
import { interruptible, STOP_SIGNALS } from '../../src/cli/interrupt.js';
import type { Output } from '../../src/cli/output.js';

function recordingOutput(): Output & { warnings: string[] } {
  const warnings: string[] = [];
  return { json: false, debug: false, info: () => {}, warn: (m) => warnings.push(m), warnings };
}

const signals = Object.keys(STOP_SIGNALS) as (keyof typeof STOP_SIGNALS)[];

describe('interruptible', () => {
  it.each(signals)(
    '%s aborts the work with its name, says what happens, and stops listening',
    async (name) => {
      const before = signals.map((s) => process.listenerCount(s));
      const exitListeners = process.listeners('exit');
      const output = recordingOutput();
      const reason = await interruptible(output, 'undoing', async (signal) => {
        expect(signals.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
        process.emit(name);
        expect(signal.aborted).toBe(true);
        // Only the first signal is caught: after it no listener of this command is left for any of them.
        expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
        return signal.reason as Error;
      });
      expect(reason).toMatchObject({ code: 'EINTERNAL', message: `interrupted (${name})` });
      expect(output.warnings).toEqual([`interrupted (${name}): undoing`]);
      // The hook that sets the exit code is for the CLI's process, not this test's.
      for (const added of process.listeners('exit').filter((l) => !exitListeners.includes(l))) {
        process.removeListener('exit', added);
      }
    },
  );

  it('leaves no listener behind when the work ends without a signal', async () => {
    const before = signals.map((s) => process.listenerCount(s));
    await expect(
      interruptible(recordingOutput(), 'undoing', async () => {
        throw new Error('failed on its own');
      }),
    ).rejects.toThrow('failed on its own');
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
