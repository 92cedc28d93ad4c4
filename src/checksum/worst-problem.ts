import type { OfflineError } from '../errors.js';

/**
 * How serious each problem of a folder check is, worst first: changed bytes, a changed size, a missing file,
 * a bad list (a malformed line, then a path outside the folder), a file nobody listed. Codes not named rank last.
 */
const SEVERITY = ['EINTEGRITY', 'EBADSIZE', 'EMISSING', 'EMANIFEST', 'EUNSAFE_PATH', 'EUNLISTED'];

const rank = (code: string) => {
  const index = SEVERITY.indexOf(code);
  return index === -1 ? SEVERITY.length : index;
};

/** The problem whose code the whole check reports: the most serious, the first by path among equals. */
export function worstProblem(problems: readonly OfflineError[]): OfflineError | undefined {
  return problems.reduce<OfflineError | undefined>(
    (worst, problem) => (worst === undefined || rank(problem.code) < rank(worst.code) ? problem : worst),
    undefined,
  );
}
