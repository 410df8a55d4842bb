/**
 * Consolidation category of a French PCG account code, shared by both budget views so
 * they cannot disagree: 64x personnel, other 6x operating, 7x revenue, 2x capital expenditure.
 */
export const ACCOUNT_CATEGORY_SQL = `CASE
    WHEN account_code LIKE '64%' THEN 'personnel'
    WHEN account_code LIKE '6%' THEN 'operating'
    WHEN account_code LIKE '7%' THEN 'revenue'
    WHEN account_code LIKE '2%' THEN 'capex'
    ELSE 'other'
  END`;
