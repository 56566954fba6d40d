import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** Becomes `draining` as soon as shutdown starts, so readiness fails while in-flight work drains. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  draining = false;

  beforeApplicationShutdown(): void {
    this.draining = true;
  }
}
