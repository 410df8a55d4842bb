/** Volumes of the tournament platform (source document 000). */
export interface TournamentVolumes {
  tournaments: number;
  /** Registrations of every tournament that has any (every 25th tournament is an empty draft). */
  registrationsPerTournament: number;
  matchesPerTournament: number;
  prizesPerTournament: number;
}

/** Volumes of the AHSP reference data (source document 001). */
export interface AhspVolumes {
  analyses: number;
  /** Line items of every analysis that has any (every 40th analysis has none). */
  itemsPerAnalysis: number;
}

/** Volumes of the professional-services finance domain (source document 002). */
export interface FinanceVolumes {
  firms: number;
  clientsPerFirm: number;
  usersPerFirm: number;
  projectsPerFirm: number;
  /** Length of the activity history, ending at the seed's anchor date. */
  months: number;
  /** Time entries of every time-tracked project (every 9th project is fixed-fee and has none). */
  timeEntriesPerProject: number;
  invoicesPerProject: number;
  expensesPerProject: number;
}

/** Volumes of the school budget planning domain (source document 004). */
export interface BudgetVolumes {
  versions: number;
  /** Per version that has content (every 8th version is an empty shell). */
  classesPerVersion: number;
  teacherAllocationsPerVersion: number;
  linesPerVersion: number;
}

/** Row volumes of one seed scale, per demo domain. */
export interface Scale {
  tournaments: TournamentVolumes;
  ahsp: AhspVolumes;
  finance: FinanceVolumes;
  budget: BudgetVolumes;
}

/**
 * The seed scales: `small` for tests (a few seconds), `medium` for demos and the
 * benchmark (~3.3 M rows), `large` to find where refreshes stop being cheap (~15 M rows).
 */
export const SCALES = {
  small: {
    tournaments: { tournaments: 100, registrationsPerTournament: 20, matchesPerTournament: 10, prizesPerTournament: 3 },
    ahsp: { analyses: 300, itemsPerAnalysis: 8 },
    finance: {
      firms: 3,
      clientsPerFirm: 4,
      usersPerFirm: 6,
      projectsPerFirm: 8,
      months: 12,
      timeEntriesPerProject: 60,
      invoicesPerProject: 8,
      expensesPerProject: 15,
    },
    budget: { versions: 8, classesPerVersion: 24, teacherAllocationsPerVersion: 10, linesPerVersion: 40 },
  },
  medium: {
    tournaments: { tournaments: 10_000, registrationsPerTournament: 100, matchesPerTournament: 50, prizesPerTournament: 10 },
    ahsp: { analyses: 50_000, itemsPerAnalysis: 8 },
    finance: {
      firms: 20,
      clientsPerFirm: 40,
      usersPerFirm: 60,
      projectsPerFirm: 100,
      months: 24,
      timeEntriesPerProject: 560,
      invoicesPerProject: 35,
      expensesPerProject: 100,
    },
    budget: { versions: 200, classesPerVersion: 36, teacherAllocationsPerVersion: 24, linesPerVersion: 300 },
  },
  large: {
    tournaments: { tournaments: 50_000, registrationsPerTournament: 100, matchesPerTournament: 50, prizesPerTournament: 10 },
    ahsp: { analyses: 200_000, itemsPerAnalysis: 8 },
    finance: {
      firms: 80,
      clientsPerFirm: 40,
      usersPerFirm: 60,
      projectsPerFirm: 100,
      months: 24,
      timeEntriesPerProject: 560,
      invoicesPerProject: 35,
      expensesPerProject: 100,
    },
    budget: { versions: 800, classesPerVersion: 36, teacherAllocationsPerVersion: 24, linesPerVersion: 300 },
  },
} as const satisfies Record<string, Scale>;

/** Name of a seed scale. */
export type ScaleName = keyof typeof SCALES;

/** The scale names, in size order. */
export const SCALE_NAMES = Object.keys(SCALES) as ScaleName[];

/** Narrows a string to a scale name. */
export function isScaleName(value: unknown): value is ScaleName {
  return typeof value === 'string' && Object.hasOwn(SCALES, value);
}
