import { describe, expect, it } from 'vitest';
import { createNodeRedisAdapter, InvalidArgumentError, Mutex } from '@hilok/node-redis';

// An unknown option key is a typo hilok would otherwise ignore in silence: it is an
// InvalidArgumentError naming the key, thrown before any connection is opened (the URL below
// points nowhere). The lock classes' keys are covered in packages/faults/test/bad-input.test.ts.
describe('node-redis: unknown option keys', () => {
  const nowhere = 'redis://127.0.0.1:1';
  it('createNodeRedisAdapter', () => {
    expect(() => createNodeRedisAdapter(nowhere, { ownClient: true } as never)).toThrow(InvalidArgumentError);
    expect(() => createNodeRedisAdapter(nowhere, { ownClient: true } as never)).toThrow('ownClient: unknown option (did you mean ownsClient?)');
  });
  it('a lock class of the node-redis package', () => {
    let err: unknown;
    try {
      new Mutex(nowhere, { tiemout: 5 } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('tiemout');
  });
});
