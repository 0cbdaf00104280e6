import { fileURLToPath } from 'node:url';
import type { DataConverter, PayloadCodec } from '@temporalio/common';

/** The module exporting our `failureConverter`: clients, workers and the workflow bundle load it by path. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The data converter of every process that talks to Temporal (API, worker, tests, replay, bundle):
 * payloads through the encryption codec, and failures' messages and stack traces encoded so the
 * codec encrypts them too. One factory, so no client is ever built with the payload half only.
 */
export function encryptedDataConverter(codec: PayloadCodec): DataConverter & { payloadCodecs: [PayloadCodec] } {
  return { payloadCodecs: [codec], failureConverterPath };
}
