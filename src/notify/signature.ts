// The signature a webhook request carries, so a receiver knows it came from freshet and was
// not replayed: `X-Freshet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
// (the scheme Stripe and, since 2025, MLflow's webhooks use). A receiver recomputes the
// HMAC over the raw body with its secret, compares in constant time, and rejects a
// timestamp too far from its clock.
import crypto from 'node:crypto';

export function signatureHeader(secret: string, body: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = crypto.createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/** What a receiver does (used by the tests, shown in the README): true when the header signs `body` with `secret`. */
export function verifySignature(secret: string, body: string, header: string, { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) } = {}): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isFinite(timestamp) || !parts.v1 || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}
