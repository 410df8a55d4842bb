import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { id } from './columns.js';

/** AHSP unit-price reference data (source document 001): analyses and their line items. */
export const ahspReferensi = pgTable(
  'ahsp_referensi',
  {
    id: id(),
    kodeAhsp: text('kode_ahsp').notNull().unique('ahsp_referensi_kode_ahsp_key'),
    namaAhsp: text('nama_ahsp').notNull(),
    klasifikasi: text('klasifikasi'),
    subKlasifikasi: text('sub_klasifikasi'),
    satuan: text('satuan'),
    sumber: text('sumber').notNull(),
    sourceFile: text('source_file'),
  },
  (t) => [index('ahsp_referensi_sumber_idx').on(t.sumber)],
);

export const rincianReferensi = pgTable(
  'rincian_referensi',
  {
    id: id(),
    ahspId: integer('ahsp_id')
      .notNull()
      .references(() => ahspReferensi.id, { onDelete: 'cascade' }),
    kategori: text('kategori', { enum: ['TK', 'BHN', 'ALT', 'LAIN'] }).notNull(),
    kodeItem: text('kode_item').notNull(),
    uraianItem: text('uraian_item').notNull(),
    satuanItem: text('satuan_item'),
    koefisien: numeric('koefisien', { precision: 18, scale: 6 }).notNull(),
  },
  (t) => [
    index('rincian_referensi_ahsp_idx').on(t.ahspId),
    check('rincian_referensi_kategori_check', sql`${t.kategori} in ('TK', 'BHN', 'ALT', 'LAIN')`),
  ],
);
