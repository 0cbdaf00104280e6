import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import type { Config } from '../config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Where outgoing mail goes. `dev-sink` keeps it in the outbox table for GET /api/v1/dev/outbox. */
export interface MailTransport {
  readonly name: 'smtp' | 'dev-sink';
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export function createMailTransport(mail: Config['mail']): MailTransport {
  if (mail.transport === 'dev-sink') return { name: 'dev-sink', async send() {}, close() {} };
  // The URL's own tls.* parameters, if any, come on top (production refuses the ones that weaken it).
  const smtp = createTransport({ url: mail.smtpUrl, ...(mail.caFile ? { tls: { ca: readFileSync(mail.caFile, 'utf8') } } : {}) });
  return {
    name: 'smtp',
    async send(message) {
      await smtp.sendMail({ from: mail.from, to: message.to, subject: message.subject, text: message.text });
    },
    close: () => smtp.close(),
  };
}
