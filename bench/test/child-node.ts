import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root. */
export const ROOT = resolve(__dirname, '..', '..');

/** The path of a module of bench/lib/, quoted for an `import()` in a script. */
export function benchModule(file: string): string {
  return JSON.stringify(join(ROOT, 'bench', 'lib', file));
}

/**
 * Runs an ES-module script in a child Node process (the bench is ES modules, the specs are not),
 * with `args` as `process.argv[1…]`, and returns what it wrote to stdout, parsed as JSON.
 */
export async function runScript<T>(script: string, args: string[], timeoutMs: number): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script, ...args],
    {
      cwd: ROOT,
      timeout: timeoutMs,
    },
  );
  return JSON.parse(stdout) as T;
}
