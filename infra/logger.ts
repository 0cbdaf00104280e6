import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

/** Structured JSON logs; secrets and PII are redacted by path before anything is written. */
export function createLogger(config: Pick<Config, 'logLevel'>, name: string): Logger {
  return pino({
    name,
    level: config.logLevel,
    redact: {
      paths: [
        'password',
        '*.password',
        'passportNumber',
        '*.passportNumber',
        '*.*.passportNumber',
        'phone',
        '*.phone',
        'authorization',
        '*.authorization',
        'cookie',
        '*.cookie',
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[REDACTED]',
    },
  });
}
export type { Logger };
