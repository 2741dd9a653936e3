/**
 * A real SMTP server in the test process (smtp-server, on a free loopback
 * port) that keeps every message it receives, parsed with mailparser: the
 * package sends to it over SMTP through nodemailer, as it would to a mail
 * relay, and tests read the codes out of the messages.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface CapturedMessage {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
}

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`: give it as `email.transport`. */
  url: string;
  readonly messages: CapturedMessage[];
  /** While set, the server refuses every message (a relay that is down for mail). */
  refuse: boolean;
  /** The next message to `address` after the first `after` ones, waiting up to `timeoutMs`. */
  nextTo(address: string, after?: number, timeoutMs?: number): Promise<CapturedMessage>;
  /** How many messages went to `address` so far. */
  countTo(address: string): number;
  stop(): Promise<void>;
}

/** The first run of `digits` digits in a message's text: the emailed code. */
export function codeIn(message: CapturedMessage, digits = 6): string {
  const found = new RegExp(`\\b(\\d{${digits}})\\b`).exec(message.text);
  if (!found) throw new Error(`no ${digits}-digit code in: ${message.text}`);
  return found[1]!;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  const waiters = new Set<() => void>();
  const capture = { refuse: false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        if (capture.refuse) return callback(new Error('451 try again later'));
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          subject: mail.subject ?? '',
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
        });
        for (const wake of waiters) wake();
        callback();
      }, (err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const toAddress = (address: string) => messages.filter((m) => m.to.includes(address));
  return Object.assign(capture, {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    countTo: (address: string) => toAddress(address).length,
    nextTo(address: string, after = 0, timeoutMs = 5_000): Promise<CapturedMessage> {
      return new Promise<CapturedMessage>((resolve, reject) => {
        const check = () => {
          const found = toAddress(address)[after];
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no message #${after + 1} to ${address} within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
