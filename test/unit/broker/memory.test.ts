import { expect, it } from 'vitest';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { brokerSuite, payload } from './suite.ts';

brokerSuite('memory', async (historyLength) => ({ broker: createMemoryBroker({ historyLimit: historyLength }) }));

it('memory: the ring buffer keeps exactly the last historyLimit messages', async () => {
  const broker = createMemoryBroker({ historyLimit: 3 });
  for (let n = 1; n <= 7; n++) await broker.publish([{ channel: 'a', ...payload(n) }]);
  expect(await broker.history('a', 0)).toEqual([5, 6, 7].map((n) => payload(n)));
  expect(await broker.history('a', payload(5).id)).toEqual([6, 7].map((n) => payload(n)));
  expect(await broker.latest('a')).toEqual(payload(7));
});
