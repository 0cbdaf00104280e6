import type { Payload, PayloadCodec } from '@temporalio/common';

type JsonPayload = { metadata?: Record<string, string>; data?: string };

/** Every payload in a history as the CLI writes it (base64 fields), decoded through the codec to text. */
export async function payloadTexts(history: unknown, codec: PayloadCodec): Promise<string[]> {
  const found: JsonPayload[] = [];
  const walk = (node: unknown, key?: string) => {
    // Search attributes are indexed by the server in the clear by design: they hold no PII, checked apart.
    if (key === 'searchAttributes') return;
    if (Array.isArray(node)) node.forEach((item) => walk(item));
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.metadata && typeof record.metadata === 'object' && 'data' in record) found.push(record as JsonPayload);
      for (const [childKey, value] of Object.entries(record)) walk(value, childKey);
    }
  };
  walk(history);
  const payloads: Payload[] = found.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
  const decoded = await codec.decode(payloads);
  return decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8'));
}
