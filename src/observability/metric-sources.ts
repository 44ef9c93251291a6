import { InjectionToken } from '../app/container';

/**
 * What the mail outbox tells the metrics, read at each scrape. The mail module registers one
 * (`c.set(OutboxMetricsSource, ...)`, at any place in the module list); until it does, the outbox
 * series read 0.
 */
export interface OutboxMetrics {
  /** Mails waiting to be sent (queued or retrying). */
  depth(): Promise<number> | number;
  /** Failed delivery attempts since the process started (a counter: it never goes down). */
  deliveryFailures(): number;
}

export const OutboxMetricsSource = new InjectionToken<OutboxMetrics>('OutboxMetrics');
