import type { RefreshHandle, Sql } from 'mvfleet';
import type { DemoProducer } from '../producer.js';

/** One AHSP analysis and its line items, as an import file yields them. */
export interface AhspImportRow {
  kodeAhsp: string;
  namaAhsp: string;
  klasifikasi?: string | null;
  satuan?: string | null;
  items: { kategori: 'TK' | 'BHN' | 'ALT' | 'LAIN'; kodeItem: string; uraianItem: string; satuanItem?: string | null; koefisien: string }[];
}

/**
 * The AHSP bulk import of source document 001, done the mvfleet way: the import commits its
 * rows and then tells the fleet (`importFinished`); it does not run REFRESH inside the
 * import (which made every import wait for, and lock, the statistics view).
 */
export async function importAhsp(
  deps: { sql: Sql; fleet: DemoProducer },
  input: { sumber: string; sourceFile: string; rows: AhspImportRow[] },
): Promise<{ analyses: number; items: number; refresh: RefreshHandle }> {
  const counts = await deps.sql.begin(async (tx) => {
    const analyses = await tx<{ id: number; kode_ahsp: string }[]>`
      INSERT INTO ahsp_referensi ${tx(
        input.rows.map((row) => ({
          kode_ahsp: row.kodeAhsp,
          nama_ahsp: row.namaAhsp,
          klasifikasi: row.klasifikasi ?? null,
          satuan: row.satuan ?? null,
          sumber: input.sumber,
          source_file: input.sourceFile,
        })),
      )}
      RETURNING id, kode_ahsp`;
    const idByCode = new Map(analyses.map((a) => [a.kode_ahsp, a.id]));
    const items = input.rows.flatMap((row) =>
      row.items.map((item) => ({
        ahsp_id: idByCode.get(row.kodeAhsp)!,
        kategori: item.kategori,
        kode_item: item.kodeItem,
        uraian_item: item.uraianItem,
        satuan_item: item.satuanItem ?? null,
        koefisien: item.koefisien,
      })),
    );
    if (items.length > 0) await tx`INSERT INTO rincian_referensi ${tx(items)}`;
    return { analyses: analyses.length, items: items.length };
  });
  // After the commit: a refresh that starts after this request sees the imported rows.
  const refresh = await deps.fleet.importFinished({ sumber: input.sumber, rows: counts.analyses });
  return { ...counts, refresh };
}
