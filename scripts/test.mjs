#!/usr/bin/env node
// `npm test`: installs what the suite needs, then lint, typecheck, build, and the Jest projects
// (unit, integration against real MongoDB-protocol and Redis servers, end-to-end with nginx and
// Chromium). Extra arguments go to Jest (`npm test -- apps/auth-service`).
// Ends with one line `N passed, N failed, N skipped` computed from Jest's JSON results.
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, build, ensureCommands, ensureFerretDb, ensureHelm, ensureNodeModules, ensureOha, log, printSummary, run, step } from './lib/steps.mjs';

const jestArgs = process.argv.slice(2);
const results = join(ROOT, 'reports', 'jest-results.json');

function summaryLine() {
  if (!existsSync(results)) {
    return undefined;
  }
  const report = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  // A suite that failed to run (syntax error, failing hook) counts as a failure too.
  const failedSuites = report.testResults.filter((suite) => suite.status === 'failed' && suite.assertionResults.length === 0).length;
  return `${report.numPassedTests} passed, ${report.numFailedTests + failedSuites} failed, ${skipped} skipped`;
}

async function main() {
  await ensureNodeModules();
  await ensureCommands(['redis-server', 'nginx', 'chromium', 'wrk']);
  if (!process.env.MONGODB_URI) {
    process.env.FERRETDB_BIN = await ensureFerretDb();
  }
  process.env.HELM_BIN = await ensureHelm();
  // The benchmarks' smoke run (bench/test) measures latency at a fixed rate with it.
  process.env.OHA_BIN = await ensureOha();
  if (process.env.SKIP_LINT !== '1') {
    await step('lint (typescript-eslint, type-checked rules)', () => run(join(ROOT, 'node_modules', '.bin', 'eslint'), ['--max-warnings=0', '.']), {
      fix: 'run npx eslint --fix . and fix what remains',
    });
    await step('typecheck (tsc --noEmit, strict)', () => run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit']));
  }
  await build();
  mkdirSync(join(ROOT, 'reports'), { recursive: true });
  rmSync(results, { force: true });
  let failed = false;
  try {
    await step('jest (unit, integration, e2e)', () =>
      run(join(ROOT, 'node_modules', '.bin', 'jest'), ['--ci', '--json', `--outputFile=${results}`, ...jestArgs]),
    );
  } catch {
    failed = true;
  }
  printSummary();
  const line = summaryLine();
  if (line) {
    console.log(line);
  } else {
    log('Jest wrote no results: see the output above');
  }
  process.exit(failed || !line ? 1 : 0);
}

main().catch((error) => {
  printSummary();
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
