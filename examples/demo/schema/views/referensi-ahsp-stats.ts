import { sql } from 'drizzle-orm';
import { integer, numeric, pgMaterializedView, text } from 'drizzle-orm/pg-core';

/** Per-analysis line-item statistics of the AHSP reference data (source document 001). */
export const referensiAhspStats = pgMaterializedView('referensi_ahsp_stats', {
  ahspId: integer('ahsp_id').notNull(),
  kodeAhsp: text('kode_ahsp').notNull(),
  namaAhsp: text('nama_ahsp').notNull(),
  klasifikasi: text('klasifikasi'),
  subKlasifikasi: text('sub_klasifikasi'),
  satuan: text('satuan'),
  sumber: text('sumber').notNull(),
  sourceFile: text('source_file'),
  rincianTotal: integer('rincian_total').notNull(),
  tkCount: integer('tk_count').notNull(),
  bhnCount: integer('bhn_count').notNull(),
  altCount: integer('alt_count').notNull(),
  lainCount: integer('lain_count').notNull(),
  zeroCoefCount: integer('zero_coef_count').notNull(),
  missingUnitCount: integer('missing_unit_count').notNull(),
  totalKoefisien: numeric('total_koefisien', { precision: 20, scale: 6 }).notNull(),
})
  .withNoData()
  .as(sql`
SELECT
  a.id AS ahsp_id,
  a.kode_ahsp,
  a.nama_ahsp,
  a.klasifikasi,
  a.sub_klasifikasi,
  a.satuan,
  a.sumber,
  a.source_file,
  COALESCE(r.rincian_total, 0)::integer AS rincian_total,
  COALESCE(r.tk_count, 0)::integer AS tk_count,
  COALESCE(r.bhn_count, 0)::integer AS bhn_count,
  COALESCE(r.alt_count, 0)::integer AS alt_count,
  COALESCE(r.lain_count, 0)::integer AS lain_count,
  COALESCE(r.zero_coef_count, 0)::integer AS zero_coef_count,
  COALESCE(r.missing_unit_count, 0)::integer AS missing_unit_count,
  COALESCE(r.total_koefisien, 0)::numeric(20, 6) AS total_koefisien
FROM ahsp_referensi a
LEFT JOIN (
  SELECT
    ahsp_id,
    count(*) AS rincian_total,
    count(*) FILTER (WHERE kategori = 'TK') AS tk_count,
    count(*) FILTER (WHERE kategori = 'BHN') AS bhn_count,
    count(*) FILTER (WHERE kategori = 'ALT') AS alt_count,
    count(*) FILTER (WHERE kategori = 'LAIN') AS lain_count,
    count(*) FILTER (WHERE koefisien = 0) AS zero_coef_count,
    count(*) FILTER (WHERE satuan_item IS NULL OR satuan_item = '') AS missing_unit_count,
    sum(koefisien) AS total_koefisien
  FROM rincian_referensi
  GROUP BY ahsp_id
) r ON r.ahsp_id = a.id
`);
