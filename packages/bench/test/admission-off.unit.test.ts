// The Switchboard targets turn the same admission limits off, in-process by option and in the workers
// target by CLI flag: the flags are the options' kebab-case forms, every one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMISSION_OFF, admissionOffFlags } from '../src/targets/admission-off.js';

test('admissionOffFlags() names every option of ADMISSION_OFF as the switchboard CLI spells it', () => {
  assert.deepEqual(admissionOffFlags(), [
    ['--connection-rate', 0],
    ['--connection-rate-per-ip', 0],
    ['--max-connections-per-ip', 0],
    ['--max-connections-per-user', 0],
    ['--messages-per-second', 0],
    ['--bytes-per-second', 0],
  ]);
  assert.equal(admissionOffFlags().length, Object.keys(ADMISSION_OFF).length);
});
