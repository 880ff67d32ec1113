/**
 * The webhook signature: `Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
 * Stripe's scheme (a timestamp inside the signed text, so a captured request cannot be replayed later).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature. */
export const SIGNATURE_HEADER = 'Switchboard-Signature';
/** The header carrying the event id, the same on every retry (receivers dedupe on it). */
export const WEBHOOK_ID_HEADER = 'Switchboard-Webhook-Id';

/** The signature header's value for `body` signed with `secret` at `unixSeconds`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * Whether `header` (the Switchboard-Signature value) signs `body` (the raw request body, exactly as
 * received) with `secret`, at a time within `toleranceS` seconds of now (default 300). Several `v1=`
 * entries are accepted (any one matching), so a secret can be rotated. Never throws.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string | Buffer,
  toleranceS = 300,
  nowMs = Date.now(),
): boolean {
  if (typeof header !== 'string') return false;
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === null || signatures.length === 0) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceS) return false;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${text}`).digest('hex'));
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature), expected));
}
