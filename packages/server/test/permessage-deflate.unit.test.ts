// The offers a server takes (RFC 7692, section 7.1) and the compression of one shared message (7.2.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, inflateRawSync } from 'node:zlib';
import { deflateMessage, negotiationFor, parseDeflateOffers } from '../src/transports/permessage-deflate.js';

test('the offers browsers and ws send are taken, with a small client window when it may be asked', () => {
  // Chromium, Firefox and ws by default.
  assert.equal(negotiationFor('permessage-deflate; client_max_window_bits'), 'narrow');
  // gorilla/websocket's client: no client_max_window_bits, so none may be answered.
  assert.equal(
    negotiationFor('permessage-deflate; server_no_context_takeover; client_no_context_takeover'),
    'wide',
  );
  assert.equal(negotiationFor('permessage-deflate; client_max_window_bits=15'), 'narrow');
  assert.equal(negotiationFor('permessage-deflate; client_max_window_bits=9'), 'wide');
  assert.equal(negotiationFor('permessage-deflate; server_max_window_bits=15'), 'wide');
});

test('an offer the shared frames cannot honour, or a malformed header, gets no compression', () => {
  assert.equal(negotiationFor(undefined), null);
  assert.equal(negotiationFor(''), null);
  assert.equal(negotiationFor('x-webkit-deflate-frame'), null);
  assert.equal(negotiationFor('permessage-deflate; server_max_window_bits=10'), null);
  assert.equal(negotiationFor('permessage-deflate; server_max_window_bits=99'), null);
  assert.equal(negotiationFor('permessage-deflate; foo'), null);
  assert.equal(negotiationFor('permessage-deflate; server_no_context_takeover=1'), null);
  assert.equal(negotiationFor('permessage-deflate; client_max_window_bits; client_max_window_bits'), null);
  assert.equal(negotiationFor('permessage-deflate; client_max_window_bits="10'), null);
  // A later acceptable offer is taken.
  assert.equal(
    negotiationFor(
      'permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
    ),
    'narrow',
  );
});

test('quoted values are unquoted (RFC 6455, section 9.1)', () => {
  const offers = parseDeflateOffers('permessage-deflate; client_max_window_bits="12"');
  assert.deepEqual(
    offers?.map((o) => Object.fromEntries(o)),
    [{ client_max_window_bits: '12' }],
  );
});

test('a message is compressed on its own, without the flush tail, and inflates back', () => {
  const text = Buffer.from(
    JSON.stringify({ rows: Array.from({ length: 50 }, (_, i) => ({ symbol: 'ABC', i })) }),
  );
  const compressed = deflateMessage(text);
  assert.ok(compressed !== null && compressed.length < text.length / 3);
  const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
  assert.notDeepEqual(compressed.subarray(-4), tail);
  assert.deepEqual(
    inflateRawSync(Buffer.concat([compressed, tail]), { finishFlush: constants.Z_SYNC_FLUSH }),
    text,
  );
  // The same message compresses to the same bytes: nothing is carried from one call to the next.
  assert.deepEqual(deflateMessage(text), compressed);
});

test('a message that deflate does not shrink is left alone', () => {
  assert.equal(deflateMessage(Buffer.from('{}')), null);
});
