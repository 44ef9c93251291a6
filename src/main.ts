import 'reflect-metadata';
// First: tracing patches http, graphql and pg as they load (and loads nothing unless configured).
import { tracing } from './observability/tracing-preload';
import { moduleSecretFields, startBouncer } from './app/bootstrap';
import { loadConfig, type Config } from './app/config';
import { ConfigError } from './config/parse';
import { createLogger } from './logging/logger';

/** `npm start`: one process serving /graphql, /healthz, /readyz and the JWKS. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`bouncer: configuration error: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config, moduleSecretFields());
  let running;
  try {
    running = await startBouncer(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`bouncer: configuration error: ${error.message}\n`);
    } else {
      logger.fatal({ err: error }, 'start failed');
      process.stderr.write(`bouncer: start failed: ${(error as Error).message}\n`);
    }
    process.exit(1);
  }
  process.stdout.write(`Bouncer ready at ${running.url}\n`);

  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    running
      .stop()
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
