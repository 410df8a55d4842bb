/**
 * Consolidation category of a French PCG account code, shared by both budget views so
 * they cannot disagree: 64x personnel, other 6x operating, 7x revenue, 2x capital expenditure.
 */
export function accountCategorySql(column: string): string {
  return `CASE
    WHEN ${column} LIKE '64%' THEN 'personnel'
    WHEN ${column} LIKE '6%' THEN 'operating'
    WHEN ${column} LIKE '7%' THEN 'revenue'
    WHEN ${column} LIKE '2%' THEN 'capex'
    ELSE 'other'
  END`;
}
