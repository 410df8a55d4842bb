import type { Logger, Sql } from 'mvfleet';
import type { DemoProducer } from '../producer.js';
import { importAhsp } from '../app/ahsp-import.js';
import { payInvoice } from '../app/invoice-payment.js';

/** Options for {@link startEventTrickle}. */
export interface EventTrickleOptions {
  sql: Sql;
  fleet: DemoProducer;
  logger: Logger;
  /**
   * Time between two application events.
   * @defaultValue 2_000
   */
  intervalMs?: number;
}

type Step = (sql: Sql, fleet: DemoProducer) => Promise<string>;

const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** What the demo's "applications" do: the source documents' flows, one at a time. */
const steps: Step[] = [
  async (sql, fleet) => {
    const [match] = await sql<{ id: number; tournament_id: number }[]>`
      UPDATE matches SET state = 'completed', started_at = now() - interval '35 minutes', completed_at = now(), updated_at = now()
      WHERE id = (SELECT id FROM matches WHERE state IN ('scheduled', 'live') ORDER BY random() LIMIT 1)
      RETURNING id, tournament_id`;
    if (!match) return 'no open match left';
    await fleet.matchCompleted({ tournamentId: match.tournament_id, matchId: match.id });
    return `match ${match.id} of tournament ${match.tournament_id} completed`;
  },
  async (sql, fleet) => {
    const [invoice] = await sql<{ id: number; total_amount: string }[]>`
      SELECT id, total_amount FROM invoices WHERE status = 'sent' ORDER BY random() LIMIT 1`;
    if (!invoice) return 'no unpaid invoice left';
    const today = new Date().toISOString().slice(0, 10);
    await payInvoice({ sql, fleet }, { invoiceId: invoice.id, amount: invoice.total_amount, paidOn: today });
    return `invoice ${invoice.id} paid`;
  },
  async (sql, fleet) => {
    const [entry] = await sql<{ id: number; firm_id: number; project_id: number; entry_date: string }[]>`
      UPDATE time_entries t SET status = 'approved', approved_at = now()
      FROM projects p
      WHERE t.id = (SELECT id FROM time_entries WHERE status = 'submitted' ORDER BY random() LIMIT 1) AND p.id = t.project_id
      RETURNING t.id, p.firm_id, t.project_id, t.entry_date::text`;
    if (!entry) return 'no submitted time entry left';
    await fleet.timeEntryApproved({ firmId: entry.firm_id, projectId: entry.project_id, entryDate: entry.entry_date });
    return `time entry ${entry.id} approved`;
  },
  async (sql, fleet) => {
    const code = `DEMO.${Date.now().toString(36)}`;
    await importAhsp(
      { sql, fleet },
      {
        sumber: 'SNI demo',
        sourceFile: 'demo-import.xlsx',
        rows: [
          {
            kodeAhsp: code,
            namaAhsp: pick(['Pemasangan bata', 'Pengecatan dinding', 'Galian tanah biasa']),
            items: [
              { kategori: 'TK', kodeItem: 'L.01', uraianItem: 'Pekerja', satuanItem: 'OH', koefisien: '0.3' },
              { kategori: 'BHN', kodeItem: 'M.02', uraianItem: 'Semen', satuanItem: 'kg', koefisien: '9.68' },
            ],
          },
        ],
      },
    );
    return `AHSP import ${code} finished`;
  },
];

/** Emits a realistic application event every `intervalMs` until stopped. */
export function startEventTrickle(options: EventTrickleOptions): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 2_000;
  let tick = 0;
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return;
    // Mostly matches and invoices; an import now and then, as in the source applications.
    const step = tick % 10 === 9 ? steps[3]! : steps[tick % 3]!;
    tick += 1;
    inFlight = step(options.sql, options.fleet)
      .then((what) => options.logger.info({ event: what }, 'demo event'))
      .catch((error: unknown) => options.logger.warn(`demo event failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        inFlight = undefined;
      });
  }, intervalMs);
  return {
    /** Stops emitting and waits for the event in flight, so nothing runs on closed connections. */
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
