/**
 * Where a child process's entry module is: the compiled `.js` beside the caller in `dist/`, or the
 * `.ts` source when the caller itself runs from source under tsx (the tests), which the child then
 * needs too.
 */
import { fileURLToPath } from 'node:url';

/** The entry `relative` (no extension) resolved against `base` (an import.meta.url), with the exec flags it needs. */
export function childModule(relative: string, base: string): { path: string; execArgv: string[] } {
  const fromSource = base.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(`${relative}${fromSource ? '.ts' : '.js'}`, base)),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}
