import type { DataSource } from 'typeorm';
import { RETRY_HORIZON_SECONDS } from './retry-schedule';

/** A mail this instance claimed: nobody else sends it until it is recorded or its lease runs out. */
export interface ClaimedMail {
  id: string;
  kind: string;
  recipient: string;
  data: Record<string, string>;
  token_enc: string | null;
  /** Attempts including this one. */
  attempts: number;
  created_at: Date;
}

export interface OutboxQueueOptions {
  /** Rows claimed at once. */
  batchSize: number;
  /** How long a claim keeps other instances off a row, seconds (far above the SMTP timeouts). */
  leaseSeconds: number;
}

const LAST_ERROR_MAX_CHARS = 512;

/**
 * The reading side of the outbox. Several instances claim at once: `FOR UPDATE SKIP LOCKED` hands
 * each row to one of them, and the claim moves the row's next attempt past a lease, so the
 * transaction ends before SMTP is spoken to. A crash between sending and recording leaves the row
 * to be sent again once the lease ends (at most one repeat, as CONTRACT.md allows).
 */
export class OutboxQueue {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxQueueOptions,
  ) {}

  async claim(): Promise<ClaimedMail[]> {
    const [rows]: [ClaimedMail[], number] = await this.dataSource.query(
      `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
        WHERE id IN (SELECT id FROM mail_outbox
                      WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, recipient, data, token_enc, attempts, created_at`,
      [this.options.batchSize, this.options.leaseSeconds],
    );
    return rows;
  }

  /** Sent: the token is erased at once; the row stays until the cleanup prunes it. */
  async sent(mail: ClaimedMail): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_outbox SET sent_at = now(), token_enc = NULL, last_error = NULL WHERE id = $1 AND attempts = $2 AND sent_at IS NULL`,
      [mail.id, mail.attempts],
    );
  }

  /**
   * Failed: tried again after `delaySeconds`, unless it has been retried for the whole horizon
   * (or cannot ever be sent): then it is given up and its token erased.
   */
  async failed(mail: ClaimedMail, error: string, delaySeconds: number | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_outbox
          SET last_error = $3,
              next_attempt_at = now() + make_interval(secs => $4),
              failed_at = CASE WHEN $5 OR created_at < now() - make_interval(secs => $6) THEN now() END,
              token_enc = CASE WHEN $5 OR created_at < now() - make_interval(secs => $6) THEN NULL ELSE token_enc END
        WHERE id = $1 AND attempts = $2 AND sent_at IS NULL`,
      [mail.id, mail.attempts, error.slice(0, LAST_ERROR_MAX_CHARS), delaySeconds ?? 0, delaySeconds === null, RETRY_HORIZON_SECONDS],
    );
  }
}
