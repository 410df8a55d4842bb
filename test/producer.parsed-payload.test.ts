import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog } from '../src/catalog/catalog.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { demoEvents } from '../examples/demo/schema/events.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

/**
 * The demo catalog, with `match.completed` declaring a payload schema that coerces the
 * tournament id from text and `prize.paid` one that defaults it: the keys an event records
 * are read from the payload as its schema parsed it.
 */
const catalog = createCatalog({
  views: demoViewDefinitions,
  events: {
    ...demoEvents,
    'match.completed': { description: 'a match ended (id as text)', payload: z.object({ tournamentId: z.coerce.number().int() }) },
    'prize.paid': { description: 'a prize was paid (house tournament by default)', payload: z.object({ tournamentId: z.number().int().default(3) }) },
  },
});

describe('emit reads keys from the parsed payload', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  let producer: Producer | undefined;
  afterAll(() => producer?.close());

  const recorded = (event: string) =>
    db.sql<{ key: unknown }[]>`SELECT key FROM mvfleet.mv_dirty_keys WHERE event = ${event} ORDER BY id`.then((rows) => rows.map((row) => row.key));

  it('a coerced field becomes the key in its parsed form', async () => {
    producer = createProducer({ catalog, backend: backends.backend('producer'), sql: db.sql });
    await producer.emit('match.completed', { tournamentId: '7' });
    expect(await recorded('match.completed')).toEqual([[7]]);
  });

  it('a defaulted field becomes the key when the payload leaves it out', async () => {
    await producer!.emit('prize.paid', {});
    expect(await recorded('prize.paid')).toEqual([[3]]);
  });
});
