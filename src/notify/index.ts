// The notify module's public surface: webhooks for the outbox's events, and their signature.
export { WebhookNotifier } from './webhook-notifier.ts';
export { signatureHeader, verifySignature } from './signature.ts';
