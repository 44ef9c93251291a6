import { Clock } from '../../src/app/clock';
import type { KernelOptions } from '../../src/app/kernel';

/**
 * 2030-01-01T00:00:15Z: 15 s into a 30 s TOTP step, and far from the real time, so a test that
 * mixes real-clock codes with a server on a TestClock fails every time instead of now and then.
 */
export const TEST_CLOCK_START_MS = Date.UTC(2030, 0, 1, 0, 0, 15);

/** A clock that moves only when the test moves it: the server and the test read the same instant. */
export class TestClock extends Clock {
  private current: number;

  constructor(startMs = TEST_CLOCK_START_MS) {
    super();
    this.current = startMs;
  }

  override now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a TestClock only moves forward (advance(${ms}))`);
    this.current += ms;
  }
}

/** Kernel options that make a test server read `clock` (pass to startTestServer's second argument). */
export function withClock(clock: Clock): KernelOptions {
  return { override: (container) => container.replace(Clock, clock) };
}
