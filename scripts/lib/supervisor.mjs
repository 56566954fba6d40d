// A tiny process supervisor for the local stack: starts a command, prefixes its output, restarts it
// with exponential backoff when it dies, and stops it (SIGTERM, then SIGKILL) on request.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const COLORS = [32, 33, 34, 35, 36, 92, 93, 94];
let nextColor = 0;

export class Supervised {
  constructor(name, command, args, { env = process.env, cwd, quiet = false, onLine } = {}) {
    Object.assign(this, { name, command, args, env, cwd, quiet, onLine });
    this.color = COLORS[nextColor++ % COLORS.length];
    this.stopping = false;
    this.restarts = 0;
    this.child = undefined;
    this.timer = undefined;
  }

  print(line) {
    if (this.onLine) {
      this.onLine(line);
    }
    if (!this.quiet) {
      process.stdout.write(`\x1b[${this.color}m${this.name.padEnd(14)}\x1b[0m| ${line}\n`);
    }
  }

  start() {
    const startedAt = Date.now();
    const child = spawn(this.command, this.args, { env: this.env, cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => this.print(line));
    createInterface({ input: child.stderr }).on('line', (line) => this.print(line));
    child.once('error', (error) => this.print(`failed to start: ${error.message}`));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) {
        return;
      }
      // A process that ran for a while starts again from the shortest delay.
      if (Date.now() - startedAt > 30_000) {
        this.restarts = 0;
      }
      const delay = Math.min(500 * 2 ** this.restarts, 30_000);
      this.restarts += 1;
      this.print(`exited (${code ?? signal}); restarting in ${delay} ms (attempt ${this.restarts})`);
      this.timer = setTimeout(() => this.start(), delay);
    });
    return this;
  }

  get pid() {
    return this.child?.pid;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs = 15_000) {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
