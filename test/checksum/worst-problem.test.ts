import { describe, expect, it } from 'vitest';
import { worstProblem } from '../../src/checksum/worst-problem.js';
import { type ErrorCode, OfflineError } from '../../src/errors.js';

const problem = (code: ErrorCode, file: string) => new OfflineError(code, `${file}: ${code}`, { file });

describe('worstProblem', () => {
  it('ranks EINTEGRITY > EBADSIZE > EMISSING > EMANIFEST > EUNLISTED, whatever the order given', () => {
    const order: ErrorCode[] = ['EINTEGRITY', 'EBADSIZE', 'EMISSING', 'EMANIFEST', 'EUNLISTED'];
    for (let worst = 0; worst < order.length; worst++) {
      const milder = order.slice(worst + 1).map((code, i) => problem(code, `a${i}`));
      const found = worstProblem([...milder, problem(order[worst] as ErrorCode, 'z'), ...milder.reverse()]);
      expect(found?.code).toBe(order[worst]);
    }
  });

  it('keeps the first of equals (the list is sorted by path) and gives nothing for no problem', () => {
    expect(worstProblem([problem('EUNLISTED', 'a'), problem('EUNLISTED', 'b')])?.file).toBe('a');
    expect(worstProblem([])).toBeUndefined();
  });
});
