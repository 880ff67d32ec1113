/**
 * Running an example of examples/ as users run it: `node examples/<name>/server.mjs`, importing the
 * packages by name, waiting for its "listening on <url>" line.
 */
import { fileURLToPath } from 'node:url';
import { OwnedChild } from './node-process.js';

/** Start an example (PORT=0 unless `env` says otherwise); resolves once it printed "listening on <url>". */
export async function startExample(
  name: string,
  env: Record<string, string> = { PORT: '0' },
): Promise<{ child: OwnedChild; port: number }> {
  const script = fileURLToPath(new URL(`../../../examples/${name}/server.mjs`, import.meta.url));
  const child = new OwnedChild(process.execPath, [script], { ...process.env, ...env });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start\n${child.describeOutput()}`)),
      15_000,
    );
    child.onStdoutLine((line) => {
      const match = /^listening on https?:\/\/[^:/]+:(\d+)/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening\n${child.describeOutput()}`));
    });
  });
  return { child, port };
}
