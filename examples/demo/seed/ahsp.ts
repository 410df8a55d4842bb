import { insertInChunks } from './chunks.js';
import type { RowCounts, SeedContext } from './context.js';
import type { AhspVolumes } from './scales.js';

/** Every 40th analysis was imported without line items (a zero row in the view). */
const EMPTY_EVERY = 40;

/**
 * AHSP reference analyses and their line items (labour TK, materials BHN, equipment ALT,
 * other LAIN), with the defects the import statistics exist to show: zero coefficients,
 * missing or blank units, analyses without classification.
 */
export async function seedAhsp(ctx: SeedContext, volumes: AhspVolumes): Promise<RowCounts> {
  const { sql, seed } = ctx;
  const count = volumes.analyses;

  const analyses = await insertInChunks(ctx, 'ahsp_referensi', { parents: count, rowsPerParent: 1 }, ({ first, last }) => sql`
    INSERT INTO ahsp_referensi (id, kode_ahsp, nama_ahsp, klasifikasi, sub_klasifikasi, satuan, sumber, source_file)
    SELECT
      i,
      format('%s.%s', (ARRAY['A.1', 'A.2', 'A.3', 'A.4', 'A.5', 'A.6', 'A.7', 'A.8', 'A.9', 'B.1'])[c.j], i),
      format(
        '%s %s',
        pg_temp.pick(ARRAY['Galian', 'Urugan', 'Pemasangan', 'Pembuatan', 'Pengecoran', 'Pembongkaran'], pg_temp.rnd(${seed}, 102, i)),
        pg_temp.pick(
          ARRAY['tanah biasa', 'pasir urug', 'batu kali', 'beton K-225', 'bekisting', 'besi tulangan', 'dinding bata', 'plesteran 1:4', 'rangka atap baja ringan', 'cat tembok'],
          pg_temp.rnd(${seed}, 103, i)
        )
      ),
      CASE WHEN pg_temp.rnd(${seed}, 104, i) >= 0.03 THEN (ARRAY[
        'Pekerjaan Persiapan', 'Pekerjaan Tanah', 'Pekerjaan Pondasi', 'Pekerjaan Beton', 'Pekerjaan Pasangan',
        'Pekerjaan Plesteran', 'Pekerjaan Kayu', 'Pekerjaan Atap', 'Pekerjaan Pengecatan', 'Pekerjaan Drainase'
      ])[c.j] END,
      CASE WHEN pg_temp.rnd(${seed}, 105, i) >= 0.2 THEN pg_temp.pick(ARRAY['Manual', 'Mekanis', 'Semi mekanis'], pg_temp.rnd(${seed}, 106, i)) END,
      CASE WHEN pg_temp.rnd(${seed}, 107, i) >= 0.05 THEN pg_temp.pick(ARRAY['m3', 'm2', 'm''', 'kg', 'bh', 'ls', 'titik'], pg_temp.rnd(${seed}, 108, i)) END,
      s.sumber,
      CASE WHEN pg_temp.rnd(${seed}, 110, i) >= 0.3 THEN format('%s.xlsx', lower(replace(s.sumber, ' ', '_'))) END
    FROM generate_series(${first}::int, ${last}::int) AS i
    CROSS JOIN LATERAL (SELECT 1 + floor(10 * pg_temp.rnd(${seed}, 101, i))::int AS j) c
    CROSS JOIN LATERAL (
      SELECT pg_temp.pick(ARRAY['SNI 2008', 'SE PUPR 2016', 'Permen PUPR 2022', 'AHSP Daerah 2024'], pg_temp.rnd(${seed}, 109, i)) AS sumber
    ) s
  `);

  const perAnalysis = volumes.itemsPerAnalysis;
  const items = await insertInChunks(ctx, 'rincian_referensi', { parents: count, rowsPerParent: perAnalysis }, ({ first, last }) => sql`
    INSERT INTO rincian_referensi (id, ahsp_id, kategori, kode_item, uraian_item, satuan_item, koefisien)
    SELECT
      r.id,
      a,
      c.kategori,
      format('%s.%s', c.prefix, lpad(c.j::text, 2, '0')),
      c.uraian,
      CASE
        WHEN pg_temp.rnd(${seed}, 124, r.id) < 0.04 THEN NULL
        WHEN pg_temp.rnd(${seed}, 124, r.id) < 0.07 THEN ''
        ELSE c.satuan
      END,
      CASE
        WHEN pg_temp.rnd(${seed}, 125, r.id) < 0.06 THEN 0
        ELSE round((0.001 + 25 * pg_temp.rnd(${seed}, 126, r.id) ^ 2)::numeric, 6)
      END
    FROM generate_series(${first}::int, ${last}::int) AS a
    CROSS JOIN generate_series(1, ${perAnalysis}::int) AS k
    CROSS JOIN LATERAL (
      SELECT
        (a - 1) * ${perAnalysis}::int + k AS id,
        pg_temp.rnd(${seed}, 121, (a - 1) * ${perAnalysis}::int + k) AS r,
        1 + floor(4 * pg_temp.rnd(${seed}, 122, (a - 1) * ${perAnalysis}::int + k))::int AS j
    ) r
    CROSS JOIN LATERAL (
      SELECT CASE WHEN r.r < 0.35 THEN 1 WHEN r.r < 0.75 THEN 2 WHEN r.r < 0.95 THEN 3 ELSE 4 END AS g
    ) g
    CROSS JOIN LATERAL (
      SELECT
        r.j,
        (ARRAY['TK', 'BHN', 'ALT', 'LAIN'])[g.g] AS kategori,
        (ARRAY['L', 'B', 'E', 'M'])[g.g] AS prefix,
        (ARRAY[
          ARRAY['Pekerja', 'Tukang', 'Kepala tukang', 'Mandor'],
          ARRAY['Semen portland', 'Pasir beton', 'Kerikil', 'Besi beton polos'],
          ARRAY['Concrete mixer', 'Vibrator', 'Excavator', 'Dump truck'],
          ARRAY['Biaya angkut', 'Air kerja', 'Alat bantu', 'Listrik kerja']
        ])[g.g][r.j] AS uraian,
        (ARRAY[
          ARRAY['OH', 'OH', 'OH', 'OH'],
          ARRAY['kg', 'm3', 'm3', 'kg'],
          ARRAY['jam', 'jam', 'jam', 'jam'],
          ARRAY['ls', 'm3', 'ls', 'kWh']
        ])[g.g][r.j] AS satuan
    ) c
    WHERE a % ${EMPTY_EVERY}::int <> 0
  `);

  return { ahsp_referensi: analyses, rincian_referensi: items };
}
