import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOSE_CODE_INFO,
  CloseCode,
  ERROR_CODE_INFO,
  ErrorCode,
  isErrorCode,
  shouldReconnect,
} from '../src/codes.js';

const listed = Object.keys(CLOSE_CODE_INFO).map(Number);

describe('shouldReconnect: Switchboard ranges', () => {
  it('reconnects after every code from 4000 to 4499, listed or not', () => {
    for (let code = 4000; code <= 4499; code++) assert.equal(shouldReconnect(code), true, String(code));
  });

  it('stops after every code from 4500 to 4999, listed or not', () => {
    for (let code = 4500; code <= 4999; code++) assert.equal(shouldReconnect(code), false, String(code));
  });

  it('keeps the code table consistent with the ranges', () => {
    for (const code of listed) {
      const info = CLOSE_CODE_INFO[code as CloseCode];
      if (code >= 4000 && code <= 4499) assert.equal(info.reconnect, true, `${code} ${info.name}`);
      if (code >= 4500 && code <= 4999) assert.equal(info.reconnect, false, `${code} ${info.name}`);
    }
  });
});

describe('shouldReconnect: RFC 6455 codes', () => {
  it('follows CLOSE_CODE_INFO for every listed code', () => {
    for (const code of listed) {
      assert.equal(shouldReconnect(code), CLOSE_CODE_INFO[code as CloseCode].reconnect, String(code));
    }
  });

  it('stops after a normal close and after protocol, data, policy and size violations', () => {
    for (const code of [1000, 1002, 1003, 1007, 1008, 1009])
      assert.equal(shouldReconnect(code), false, String(code));
  });

  it('reconnects after going away, an abnormal drop, a server error, a restart and try-again-later', () => {
    for (const code of [1001, 1006, 1011, 1012, 1013])
      assert.equal(shouldReconnect(code), true, String(code));
  });

  it('reconnects after RFC codes missing from the table (1004, 1005, 1010, 1014, 1015)', () => {
    for (const code of [1004, 1005, 1010, 1014, 1015])
      assert.equal(shouldReconnect(code), true, String(code));
  });
});

describe('shouldReconnect: unknown codes', () => {
  it('reconnects after registered (3000-3999) and unassigned (1016-2999) codes', () => {
    for (const code of [1016, 2000, 2999, 3000, 3500, 3999])
      assert.equal(shouldReconnect(code), true, String(code));
  });

  it('reconnects after codes outside every range, including nonsense numbers', () => {
    for (const code of [0, -1, 999, 5000, 65_535, 1_000_000, Number.NaN, Infinity, -Infinity]) {
      assert.equal(shouldReconnect(code), true, String(code));
    }
  });
});

describe('CLOSE_CODE_INFO', () => {
  it('has an entry for every CloseCode and nothing else', () => {
    assert.deepEqual(
      listed.sort((a, b) => a - b),
      Object.values(CloseCode).sort((a, b) => a - b),
    );
  });

  it('gives every code a unique snake_case name and a description', () => {
    const names = listed.map((code) => CLOSE_CODE_INFO[code as CloseCode].name);
    assert.equal(new Set(names).size, names.length);
    for (const code of listed) {
      const info = CLOSE_CODE_INFO[code as CloseCode];
      assert.match(info.name, /^[a-z]+(_[a-z]+)*$/);
      assert.ok(info.description.length > 10, String(code));
    }
  });
});

describe('isErrorCode', () => {
  it('accepts every ErrorCode and rejects other strings, including Object.prototype names', () => {
    for (const code of Object.values(ErrorCode)) assert.equal(isErrorCode(code), true, code);
    for (const value of [
      '',
      'INTERNAL',
      'toString',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      1,
      null,
      undefined,
    ]) {
      assert.equal(isErrorCode(value), false, String(value));
    }
  });

  it('has a table entry with an HTTP error status for every code', () => {
    assert.deepEqual(Object.keys(ERROR_CODE_INFO).sort(), Object.values(ErrorCode).sort());
    for (const code of Object.values(ErrorCode)) {
      const { httpStatus } = ERROR_CODE_INFO[code];
      assert.ok(httpStatus >= 400 && httpStatus <= 599, `${code} ${httpStatus}`);
    }
  });
});
