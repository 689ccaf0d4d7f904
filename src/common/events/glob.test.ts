import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePattern } from './glob.js';

describe('event type patterns', () => {
  const cases: Array<[pattern: string, eventType: string, expected: boolean]> = [
    ['identity.user.created', 'identity.user.created', true],
    ['identity.user.created', 'identity.user.created.extra', false],
    ['identity.user.*', 'identity.user.created', true],
    ['identity.user.*', 'identity.user.deleted', true],
    ['identity.user.*', 'identity.project.created', false],
    ['identity.user.*', 'identity.user', false],
    ['compute.instance.*', 'compute.instance.create.end', true],
    ['compute.instance.*.end', 'compute.instance.create.end', true],
    ['compute.instance.*.end', 'compute.instance.create.start', false],
    ['*', 'anything.at.all', true],
    ['*.created', 'identity.user.created', true],
    ['identity.?ser.created', 'identity.user.created', true],
    // Dots and other regex characters in a pattern are literal.
    ['identity.user.created', 'identityXuserXcreated', false],
    ['a+b.(c)', 'a+b.(c)', true],
    ['a+b.*', 'aab.x', false],
  ];
  for (const [pattern, eventType, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${eventType}`, () => {
      assert.equal(compilePattern(pattern)(eventType), expected);
    });
  }
});
