/**
 * What an error that reaches the edge of a request means, decided in one
 * place for every adapter (the 2FA routes, the gate, `requireStepUp`, the
 * app's error middleware):
 *
 * - `two_factor`: one of ours, answered as it is;
 * - `bad_request`: the client sent something that cannot be read (a body that
 *   is not what its Content-Type or Content-Encoding says, too large, cut
 *   short): `400 invalid_input`, never a 5xx;
 * - `store`: the store did not answer in time or said it cannot serve (Redis
 *   paused, down, out of memory, loading, failing over): `503 store_unavailable`;
 * - `other`: a bug of the app (or of this package), left to the framework.
 *
 * Errors are recognised by shape (name, code, type, message), not by class:
 * the app's copies of ioredis, raw-body or co-body need not be ours, and core
 * imports neither a framework nor a store.
 */
import { TwoFactorError } from './errors.ts';

export type ErrorClass =
  | { kind: 'two_factor'; error: TwoFactorError }
  /** `reason`: a short, stable label (`compressed body`, `content encoding`…). */
  | { kind: 'bad_request'; reason: string }
  /** `reason`: a short, stable label (`command timeout`, `OOM`, `ECONNREFUSED`…), one per kind of outage, for logs. */
  | { kind: 'store'; reason: string }
  | { kind: 'other' };

/**
 * Redis error replies that mean "cannot serve now", not "your command is
 * wrong": out of memory (noeviction), loading the dataset, a busy script,
 * failed persistence, a replica or a cluster that cannot take writes yet.
 */
const UNAVAILABLE_REPLIES = new Set(['OOM', 'LOADING', 'BUSY', 'MISCONF', 'READONLY', 'MASTERDOWN', 'NOREPLICAS', 'CLUSTERDOWN', 'TRYAGAIN']);

/** ioredis' own errors for a server that does not answer (none of them has a code). */
const CLIENT_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Command timed out/, 'command timeout'],
  [/^Connection is closed/, 'connection closed'],
  // enableOfflineQueue: false and not connected.
  [/^Stream isn't writeable/, 'not connected'],
  [/^Cluster isn't ready/, 'not connected'],
  [/^None of startup nodes is available/, 'cluster unreachable'],
  [/^Failed to refresh slots cache/, 'cluster unreachable'],
];

const CLIENT_ERROR_NAMES: Record<string, string> = {
  MaxRetriesPerRequestError: 'max retries',
  ClusterAllFailedError: 'cluster unreachable',
};

/** Socket errors on the way to the store. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** raw-body / body-parser error types that the client caused. Its 5xx types (`stream.not.readable`…) are the app's bugs. */
const BODY_ERROR_TYPES = new Set([
  'request.aborted', 'request.size.invalid', 'entity.too.large', 'entity.parse.failed',
  'entity.verify.failed', 'encoding.unsupported', 'charset.unsupported', 'parameters.too.many',
]);

/** zlib (gzip, deflate) errors on data that is not what Content-Encoding says. */
const ZLIB_DATA_CODES = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);
/** Brotli decoder errors on malformed input (Node spells them `ERR_` + the decoder's `_ERROR_FORMAT_…`). */
const BROTLI_DATA_CODE = /^ERR__ERROR_(FORMAT_|DICTIONARY_NOT_SET)/;
/**
 * zstd's decoding errors (`ZSTD_error_prefix_unknown`, `ZSTD_error_corruption_detected`…):
 * Node 22.15 and later decode `Content-Encoding: zstd`, so body-parser reads
 * such a body and a body that is not zstd fails with one of these, not 415.
 */
const ZSTD_DATA_CODE = /^ZSTD_error_/;

/** How deep to follow `cause` (a store or parser error wrapped by the app). */
const MAX_CAUSE_DEPTH = 3;

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  status?: unknown;
  type?: unknown;
  body?: unknown;
  cause?: unknown;
  previousErrors?: unknown;
}

function shapeOf(err: unknown): ErrorShape | null {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : null;
}

/** The `reason` of a store failure, or undefined. */
function storeReason(e: ErrorShape): string | undefined {
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'ReplyError') {
    const prefix = /^[A-Z]+/.exec(message)?.[0] ?? '';
    if (UNAVAILABLE_REPLIES.has(prefix)) return prefix;
    // MULTI/EXEC refused because a queued command was (e.g. OOM).
    if (prefix === 'EXECABORT' && Array.isArray(e.previousErrors)) {
      for (const previous of e.previousErrors) {
        const reason = storeReason(shapeOf(previous) ?? {});
        if (reason) return reason;
      }
    }
    return undefined;
  }
  if (typeof e.name === 'string' && e.name in CLIENT_ERROR_NAMES) return CLIENT_ERROR_NAMES[e.name];
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  for (const [pattern, reason] of CLIENT_MESSAGES) if (pattern.test(message)) return reason;
  return undefined;
}

/** The `reason` a body could not be read, or undefined. */
function badRequestReason(e: ErrorShape): string | undefined {
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.code === 'string' && (ZLIB_DATA_CODES.has(e.code) || BROTLI_DATA_CODE.test(e.code) || ZSTD_DATA_CODE.test(e.code))) return 'compressed body';
  // inflation: `Unsupported Content-Encoding: x` (status 415).
  if (e.status === 415 && /^Unsupported Content-Encoding/i.test(message)) return 'content encoding';
  if (typeof e.type === 'string' && BODY_ERROR_TYPES.has(e.type)) return e.type === 'entity.too.large' ? 'body too large' : 'malformed body';
  // co-body: a JSON or form body that does not parse carries `status` 400 and the raw `body`.
  if (e.status === 400 && typeof e.body === 'string') return 'malformed body';
  // co-body: a body of a type the parser was not asked to read.
  if (e.status === 415 && /^(Unsupported content-type|Missing content-type)/.test(message)) return 'content type';
  return undefined;
}

/** Sorts `err` into one of the four classes above. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof TwoFactorError) return { kind: 'two_factor', error: err };
  let e = shapeOf(err);
  for (let depth = 0; e && depth <= MAX_CAUSE_DEPTH; depth++) {
    const store = storeReason(e);
    if (store) return { kind: 'store', reason: store };
    const bad = badRequestReason(e);
    if (bad) return { kind: 'bad_request', reason: bad };
    e = shapeOf(e.cause);
  }
  return { kind: 'other' };
}

/** The message of `invalid_input` when the body itself could not be read. */
export const UNREADABLE_BODY_MESSAGE = 'The request body could not be read.';

/**
 * The contract's answer to `err`: itself, `invalid_input`, `store_unavailable`,
 * or null for an error that is nobody's fault but the code's (rethrow it).
 */
export function toTwoFactorError(err: unknown): TwoFactorError | null {
  const c = classifyError(err);
  if (c.kind === 'two_factor') return c.error;
  if (c.kind === 'bad_request') return new TwoFactorError('invalid_input', {}, UNREADABLE_BODY_MESSAGE);
  if (c.kind === 'store') return new TwoFactorError('store_unavailable');
  return null;
}
